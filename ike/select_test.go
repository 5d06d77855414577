package ike

import (
	"slices"
	"testing"
)

func mustProposals(t *testing.T, proto Protocol, ss ...string) []Proposal {
	t.Helper()
	var ps []Proposal
	for _, s := range ss {
		p, err := ParseProposal(s, proto)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestSelectProposal(t *testing.T) {
	for _, tc := range []struct {
		name           string
		proto          Protocol
		offered, local []string
		want           []Transform // nil: no match
		index          int
	}{
		{"identical", ProtoIKE, []string{"aes128-sha256-modp2048"}, []string{"aes128-sha256-modp2048"},
			[]Transform{encAES128, prf256, integSHA256, dhMODP2048}, 0},
		{"responder's order of transforms wins", ProtoIKE,
			[]string{"aes128-aes256-sha1-sha256-modp2048-x25519"}, []string{"aes256-aes128-sha256-x25519-modp2048"},
			[]Transform{encAES256, prf256, integSHA256, dhX25519}, 0},
		{"responder's order of proposals wins", ProtoIKE,
			[]string{"aes128-sha1-modp2048", "aes256-sha256-x25519"}, []string{"aes256-sha256-x25519", "aes128-sha1-modp2048"},
			[]Transform{encAES256, prf256, integSHA256, dhX25519}, 1},
		{"first offered among equals", ProtoIKE,
			[]string{"3des-sha1-modp1024", "aes128-sha256-modp2048", "aes128-sha256-modp2048-x25519"},
			[]string{"aes128-sha256-x25519-modp2048"},
			[]Transform{encAES128, prf256, integSHA256, dhMODP2048}, 1},
		{"key length must match", ProtoIKE, []string{"aes256-sha256-modp2048"}, []string{"aes128-sha256-modp2048"}, nil, 0},
		{"no common group", ProtoIKE, []string{"aes128-sha256-modp2048"}, []string{"aes128-sha256-x25519"}, nil, 0},
		{"no common PRF", ProtoIKE, []string{"aes128-sha256-prfsha1-modp2048"}, []string{"aes128-sha256-modp2048"}, nil, 0},
		{"AEAD", ProtoIKE, []string{"aes256gcm16-aes128gcm16-prfsha384-prfsha256-x25519"},
			[]string{"aes128gcm16-prfsha256-x25519"},
			[]Transform{tf(TransformENCR, ENCR_AES_GCM_16, 128), prf256, dhX25519}, 0},
		{"ESP without PFS, no ESN on both sides", ProtoESP, []string{"aes128-sha256"}, []string{"aes128-sha256"},
			[]Transform{encAES128, integSHA256, esnNo}, 0},
		{"ESP: ESN offered, responder takes either", ProtoESP, []string{"aes128-sha256-esn-noesn"},
			[]string{"aes128-sha256-esn"}, []Transform{encAES128, integSHA256, esnYes}, 0},
		{"ESP: ESN required but not offered", ProtoESP, []string{"aes128-sha256"}, []string{"aes128-sha256-esn"}, nil, 0},
		{"ESP: PFS on one side only", ProtoESP, []string{"aes128-sha256"}, []string{"aes128-sha256-modp2048"}, nil, 0},
		{"ESP: PFS on both", ProtoESP, []string{"aes128-sha256-x25519-modp2048"}, []string{"aes128-sha256-modp2048"},
			[]Transform{encAES128, integSHA256, dhMODP2048, esnNo}, 0},
		{"ESP: integrity on one side only", ProtoESP, []string{"aes128-sha256"}, []string{"aes128"}, nil, 0},
		{"nothing offered", ProtoESP, nil, []string{"aes128-sha256"}, nil, 0},
	} {
		offered := mustProposals(t, tc.proto, tc.offered...)
		local := mustProposals(t, tc.proto, tc.local...)
		got, i, ok := SelectProposal(offered, local)
		if tc.want == nil {
			if ok {
				t.Errorf("%s: chose %v (offer %d), want no match", tc.name, got.Transforms, i)
			}
			continue
		}
		if !ok || i != tc.index || got.Protocol != tc.proto || !slices.Equal(got.Transforms, tc.want) {
			t.Errorf("%s: got %v offer %d ok %v, want %v offer %d", tc.name, got.Transforms, i, ok, tc.want, tc.index)
		}
	}
}

// TestSelectProposalHandMade covers proposals as they come off the wire: ESN absent
// from an ESP offer, and a protocol mismatch.
func TestSelectProposalHandMade(t *testing.T) {
	offered := []Proposal{
		{Protocol: ProtoAH, Transforms: []Transform{integSHA256}},
		{Protocol: ProtoESP, Transforms: []Transform{encAES128, integSHA256}}, // no ESN transform
	}
	local := mustProposals(t, ProtoESP, "aes128-sha256")
	got, i, ok := SelectProposal(offered, local)
	if !ok || i != 1 || !slices.Equal(got.Transforms, []Transform{encAES128, integSHA256, esnNo}) {
		t.Errorf("got %v offer %d ok %v", got.Transforms, i, ok)
	}
}
