package ike

import (
	"slices"
	"strings"
	"testing"
)

func tf(typ TransformType, id uint16, keyLen int) Transform {
	return Transform{Type: typ, ID: id, KeyLen: keyLen}
}

var (
	encAES128   = tf(TransformENCR, ENCR_AES_CBC, 128)
	encAES256   = tf(TransformENCR, ENCR_AES_CBC, 256)
	enc3DES     = tf(TransformENCR, ENCR_3DES, 0)
	prfSHA1     = tf(TransformPRF, PRF_HMAC_SHA1, 0)
	prf256      = tf(TransformPRF, PRF_HMAC_SHA2_256, 0)
	prf384      = tf(TransformPRF, PRF_HMAC_SHA2_384, 0)
	prfMD5      = tf(TransformPRF, PRF_HMAC_MD5, 0)
	integSHA1   = tf(TransformINTEG, AUTH_HMAC_SHA1_96, 0)
	integSHA256 = tf(TransformINTEG, AUTH_HMAC_SHA2_256_128, 0)
	integMD5    = tf(TransformINTEG, AUTH_HMAC_MD5_96, 0)
	dhMODP1024  = tf(TransformDH, MODP_1024, 0)
	dhMODP2048  = tf(TransformDH, MODP_2048, 0)
	dhX25519    = tf(TransformDH, Curve25519, 0)
	esnNo       = tf(TransformESN, NO_ESN, 0)
	esnYes      = tf(TransformESN, ESN, 0)
)

func TestParseProposal(t *testing.T) {
	for _, tc := range []struct {
		s     string
		proto Protocol
		want  []Transform
	}{
		{"aes128-sha256-modp2048", ProtoIKE, []Transform{encAES128, prf256, integSHA256, dhMODP2048}},
		{"aes256gcm16-prfsha384-x25519", ProtoIKE,
			[]Transform{tf(TransformENCR, ENCR_AES_GCM_16, 256), prf384, dhX25519}},
		{"3des-md5-modp1024", ProtoIKE, []Transform{enc3DES, prfMD5, integMD5, dhMODP1024}},
		{"3des-sha1-modp1024", ProtoIKE, []Transform{enc3DES, prfSHA1, integSHA1, dhMODP1024}},
		{"aes128-sha256-prfsha1-modp2048", ProtoIKE, []Transform{encAES128, prfSHA1, integSHA256, dhMODP2048}},
		{"aes128-aes256-sha256-modp2048", ProtoIKE, []Transform{encAES128, encAES256, prf256, integSHA256, dhMODP2048}},
		{"AES128-SHA256-MODP2048", ProtoIKE, []Transform{encAES128, prf256, integSHA256, dhMODP2048}},
		{"aes128-sha1-sha256-x25519-modp2048", ProtoIKE,
			[]Transform{encAES128, prfSHA1, prf256, integSHA1, integSHA256, dhX25519, dhMODP2048}},
		// With an AEAD cipher an integrity keyword only names the PRF.
		{"aes128gcm16-sha256-ecp256", ProtoIKE,
			[]Transform{tf(TransformENCR, ENCR_AES_GCM_16, 128), prf256, tf(TransformDH, ECP_256, 0)}},
		{"aes128-aesxcbc-modp2048", ProtoIKE,
			[]Transform{encAES128, tf(TransformPRF, PRF_AES128_XCBC, 0), tf(TransformINTEG, AUTH_AES_XCBC_96, 0), dhMODP2048}},
		{"aes128-sha1-prfaesxcbc-ecp384", ProtoIKE,
			[]Transform{encAES128, tf(TransformPRF, PRF_AES128_XCBC, 0), integSHA1, tf(TransformDH, ECP_384, 0)}},
		{"chacha20poly1305-prfsha256-ecp521-modp768", ProtoIKE,
			[]Transform{tf(TransformENCR, ENCR_CHACHA20_POLY1305, 0), prf256, tf(TransformDH, ECP_521, 0), tf(TransformDH, MODP_768, 0)}},

		{"aes128-sha256", ProtoESP, []Transform{encAES128, integSHA256, esnNo}},
		{"aes128", ProtoESP, []Transform{encAES128, esnNo}}, // encryption only: RFC 4303 allows it
		{"aes128-sha256-modp2048", ProtoESP, []Transform{encAES128, integSHA256, dhMODP2048, esnNo}},
		{"aes256gcm16", ProtoESP, []Transform{tf(TransformENCR, ENCR_AES_GCM_16, 256), esnNo}},
		{"aes256gcm128", ProtoESP, []Transform{tf(TransformENCR, ENCR_AES_GCM_16, 256), esnNo}},
		{"3des-md5", ProtoESP, []Transform{enc3DES, integMD5, esnNo}},
		{"chacha20poly1305", ProtoESP, []Transform{tf(TransformENCR, ENCR_CHACHA20_POLY1305, 0), esnNo}},
		{"aes128gcm8", ProtoESP, []Transform{tf(TransformENCR, ENCR_AES_GCM_8, 128), esnNo}},
		{"aes192gcm12", ProtoESP, []Transform{tf(TransformENCR, ENCR_AES_GCM_12, 192), esnNo}},
		{"aes192gcm96", ProtoESP, []Transform{tf(TransformENCR, ENCR_AES_GCM_12, 192), esnNo}},
		{"aes-aesxcbc", ProtoESP, []Transform{encAES128, tf(TransformINTEG, AUTH_AES_XCBC_96, 0), esnNo}},
		{"null-sha1", ProtoESP, []Transform{tf(TransformENCR, ENCR_NULL, 0), integSHA1, esnNo}},
		{"aes128-sha256-esn", ProtoESP, []Transform{encAES128, integSHA256, esnYes}},
		{"aes128-sha256-esn-noesn", ProtoESP, []Transform{encAES128, integSHA256, esnYes, esnNo}},
		{"aes128-sha256-noesn", ProtoESP, []Transform{encAES128, integSHA256, esnNo}},
		{"sha256", ProtoAH, []Transform{integSHA256, esnNo}},
	} {
		p, err := ParseProposal(tc.s, tc.proto)
		if err != nil {
			t.Errorf("%s %q: %v", tc.proto, tc.s, err)
			continue
		}
		if p.Protocol != tc.proto || !slices.Equal(p.Transforms, tc.want) {
			t.Errorf("%s %q:\n got %v\nwant %v", tc.proto, tc.s, p.Transforms, tc.want)
		}
	}
}

func TestParseProposalErrors(t *testing.T) {
	for _, tc := range []struct {
		s     string
		proto Protocol
		want  string // the whole error, or a part of it
	}{
		{"aes129-sha256-modp2048", ProtoIKE,
			`ike: unknown algorithm "aes129" in proposal "aes129-sha256-modp2048" (did you mean "aes128"?)`},
		{"aes128-sha256-modp2047", ProtoIKE, `(did you mean "modp2048"?)`},
		{"aes128-sha265", ProtoESP, `(did you mean "sha256"?)`},
		{"aes128-x22519", ProtoESP, `(did you mean "x25519"?)`},
		{"aes128-sha256-frobnicate", ProtoESP, `unknown algorithm "frobnicate" in proposal "aes128-sha256-frobnicate"`},
		{"", ProtoESP, "empty algorithm"},
		{"aes128--sha256", ProtoESP, "empty algorithm"},
		{"aes128-sha256-", ProtoESP, "empty algorithm"},
		{"aes128-sha256", ProtoIKE, "no Diffie-Hellman group"},
		{"sha256-modp2048", ProtoIKE, "no encryption algorithm"},
		{"aes128-modp2048", ProtoIKE, "no integrity algorithm"},
		{"aes128gcm16-modp2048", ProtoIKE, "no PRF"},
		{"aes128-sha256-modp2048-esn", ProtoIKE, "ESN is negotiated for ESP and AH only"},
		{"aes128gcm16-aes128-prfsha256-modp2048", ProtoIKE, "mixes AEAD and non-AEAD"},
		{"aes128-sha256-prfsha256", ProtoESP, "PRF is negotiated for IKE only"},
		{"sha256", ProtoESP, "no encryption algorithm"},
		{"null", ProtoESP, "ENCR_NULL without an integrity algorithm"},
		{"aes128-sha256", ProtoAH, "AH does not encrypt"},
		{"modp2048", ProtoAH, "no integrity algorithm"},
		{"aes128-sha256", Protocol(9), "unknown protocol"},
	} {
		_, err := ParseProposal(tc.s, tc.proto)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: error %v, want one containing %q", tc.proto, tc.s, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "ike: ") {
			t.Errorf("%s %q: error %q lacks the package prefix", tc.proto, tc.s, err)
		}
	}
}

func TestProposalString(t *testing.T) {
	for _, tc := range []struct {
		s     string
		proto Protocol
		want  string
	}{
		{"aes128-sha256-modp2048", ProtoIKE, "aes128-sha256-modp2048"},
		{"aes256gcm16-prfsha384-x25519", ProtoIKE, "aes256gcm16-prfsha384-x25519"},
		{"aes128gcm128-sha256-curve25519", ProtoIKE, "aes128gcm16-prfsha256-x25519"},
		{"aes-sha-prfsha256-modp2048", ProtoIKE, "aes128-sha1-prfsha256-modp2048"},
		{"aes128-sha256", ProtoESP, "aes128-sha256"},
		{"aes128-sha256-noesn-esn", ProtoESP, "aes128-sha256-noesn-esn"},
		{"aes128-sha2_256-esn", ProtoESP, "aes128-sha256-esn"},
		{"sha512", ProtoAH, "sha512"},
	} {
		p, err := ParseProposal(tc.s, tc.proto)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.String(); got != tc.want {
			t.Errorf("%s %q: String = %q, want %q", tc.proto, tc.s, got, tc.want)
		}
	}
	// A transform from the wire with no keyword is shown by name.
	p := Proposal{Protocol: ProtoIKE, Transforms: []Transform{tf(TransformENCR, 99, 0), tf(TransformENCR, ENCR_AES_CBC, 100)}}
	if got, want := p.String(), "ENCR99(unknown)-ENCR_AES_CBC(100)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// TestProposalStringManyTransforms: a proposal from the wire may list any number of
// transforms of a type. An IKE_SA_INIT whose offer matches nothing is written into the
// error with String, before the peer is authenticated: nine INTEG transforms made it
// panic once (slice bounds out of range).
func TestProposalStringManyTransforms(t *testing.T) {
	p := Proposal{Protocol: ProtoIKE, Transforms: []Transform{tf(TransformENCR, ENCR_AES_CBC, 128)}}
	for i := 0; i < 12; i++ {
		p.Transforms = append(p.Transforms, tf(TransformINTEG, AUTH_HMAC_SHA2_256_128, 0))
	}
	p.Transforms = append(p.Transforms, tf(TransformPRF, PRF_HMAC_SHA2_256, 0), tf(TransformDH, 31, 0))
	got := p.String()
	want := "aes128" + strings.Repeat("-sha256", 12) + "-x25519"
	if got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestProposalWeak(t *testing.T) {
	for _, tc := range []struct {
		s     string
		proto Protocol
		want  []string
	}{
		{"aes128-sha256-modp2048", ProtoIKE, nil},
		{"3des-md5-modp1024", ProtoIKE, []string{"ENCR_3DES", "PRF_HMAC_MD5", "AUTH_HMAC_MD5_96", "MODP_1024"}},
		{"aes128-sha1-modp768-modp1536-modp2048", ProtoIKE, []string{"MODP_768", "MODP_1536"}},
		{"null-sha256", ProtoESP, []string{"ENCR_NULL"}},
		{"des-sha1", ProtoESP, []string{"ENCR_DES"}},
	} {
		p, err := ParseProposal(tc.s, tc.proto)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Weak(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: Weak = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// TestProposalKeywords checks that every keyword is sorted, unique and parses, in a
// proposal completed with what its type needs, and that String writes a keyword for
// every transform the registry has.
func TestProposalKeywords(t *testing.T) {
	kws := ProposalKeywords()
	if !slices.IsSorted(kws) || len(slices.Compact(slices.Clone(kws))) != len(kws) {
		t.Error("keywords are not sorted and unique")
	}
	for _, k := range kws {
		tr := keywordByName[k]
		var s string
		proto := ProtoIKE
		switch tr.Type {
		case TransformENCR:
			s = k + "-sha256-prfsha256-modp2048"
			if Encr(tr.ID).AEAD() {
				s = k + "-prfsha256-modp2048"
			}
		case TransformINTEG:
			s = "aes128-" + k + "-modp2048"
		case TransformPRF:
			s = "aes128-sha256-" + k + "-modp2048"
		case TransformDH:
			s = "aes128-sha256-" + k
		case TransformESN:
			s, proto = "aes128-sha256-"+k, ProtoESP
		}
		p, err := ParseProposal(s, proto)
		if err != nil || !slices.Contains(p.Transforms, tr) {
			t.Errorf("keyword %q: %q gave %v, %v", k, s, p.Transforms, err)
		}
	}
	for _, e := range EncrAlgs() {
		for _, bits := range e.KeyBits {
			tr := Transform{Type: TransformENCR, ID: e.ID}
			if len(e.KeyBits) > 1 {
				tr.KeyLen = bits
			}
			if _, ok := keywordByTransform[tr]; !ok {
				t.Errorf("no keyword for %s", TransformName(tr))
			}
		}
	}
	for _, p := range PRFAlgs() {
		if _, ok := keywordByTransform[Transform{Type: TransformPRF, ID: p.ID}]; !ok {
			t.Errorf("no keyword for %s", p.Name)
		}
	}
	for _, a := range IntegAlgs() {
		if _, ok := keywordByTransform[Transform{Type: TransformINTEG, ID: a.ID}]; !ok {
			t.Errorf("no keyword for %s", a.Name)
		}
	}
	for _, g := range DHGroups() {
		if _, ok := keywordByTransform[Transform{Type: TransformDH, ID: g.ID}]; !ok {
			t.Errorf("no keyword for %s", g.Name)
		}
	}
}

// FuzzParseProposal checks that ParseProposal never panics and that whatever it
// accepts, String writes back into the same proposal.
func FuzzParseProposal(f *testing.F) {
	for _, s := range []string{
		"aes128-sha256-modp2048", "aes256gcm16-prfsha384-x25519", "3des-md5-modp1024",
		"aes128-aes256-sha256-sha1-modp2048-ecp256", "aes128gcm8-esn-noesn", "null-sha1",
		"aes129-sha256", "--", "AES128-Sha256-X25519", "chacha20poly1305-prfaesxcbc-curve25519",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, proto := range []Protocol{ProtoIKE, ProtoESP, ProtoAH} {
			p, err := ParseProposal(s, proto)
			if err != nil {
				continue
			}
			q, err := ParseProposal(p.String(), proto)
			if err != nil {
				t.Fatalf("%s %q: String gave %q, which does not parse: %v", proto, s, p.String(), err)
			}
			if !slices.Equal(p.Transforms, q.Transforms) {
				t.Fatalf("%s %q: round trip through %q changed %v into %v", proto, s, p.String(), p.Transforms, q.Transforms)
			}
			_ = p.Weak()
		}
	})
}

// TestNewAlgorithmKeywords reads strongSwan's keywords of the algorithms of RFC 5930,
// 5282, 5529, 4494, 4615, 4595, 5114, 6954 and 8031, and writes them back.
func TestNewAlgorithmKeywords(t *testing.T) {
	for _, tc := range []struct {
		in    string
		proto Protocol
		want  []Transform
		out   string
	}{
		{"aes128ctr-sha256-modp2048s256", ProtoIKE, []Transform{{TransformENCR, ENCR_AES_CTR, 128},
			{TransformPRF, PRF_HMAC_SHA2_256, 0}, {TransformINTEG, AUTH_HMAC_SHA2_256_128, 0}, {TransformDH, MODP_2048_256, 0}},
			"aes128ctr-sha256-modp2048s256"},
		{"aes256ccm12-prfsha384-ecp384bp", ProtoIKE, []Transform{{TransformENCR, ENCR_AES_CCM_12, 256},
			{TransformPRF, PRF_HMAC_SHA2_384, 0}, {TransformDH, ECP_384_BP, 0}}, "aes256ccm12-prfsha384-ecp384bp"},
		{"aes128ccm128-aescmac-curve448", ProtoIKE, []Transform{{TransformENCR, ENCR_AES_CCM_16, 128},
			{TransformPRF, PRF_AES128_CMAC, 0}, {TransformDH, Curve448, 0}}, "aes128ccm16-prfaescmac-curve448"},
		{"camellia256-cmac-prfcmac-x448", ProtoIKE, []Transform{{TransformENCR, ENCR_CAMELLIA_CBC, 256},
			{TransformPRF, PRF_AES128_CMAC, 0}, {TransformINTEG, AUTH_AES_CMAC_96, 0}, {TransformDH, Curve448, 0}},
			"camellia256-aescmac-curve448"},
		{"camellia-sha1_160-modp1024s160-ecp224bp-modp2048s224-ecp256bp-ecp512bp", ProtoIKE, []Transform{
			{TransformENCR, ENCR_CAMELLIA_CBC, 128}, {TransformPRF, PRF_HMAC_SHA1, 0}, {TransformINTEG, AUTH_HMAC_SHA1_160, 0},
			{TransformDH, MODP_1024_160, 0}, {TransformDH, ECP_224_BP, 0}, {TransformDH, MODP_2048_224, 0},
			{TransformDH, ECP_256_BP, 0}, {TransformDH, ECP_512_BP, 0}},
			"camellia128-sha1_160-modp1024s160-ecp224bp-modp2048s224-ecp256bp-ecp512bp"},
		{"aes192ctr-aescmac", ProtoESP, []Transform{{TransformENCR, ENCR_AES_CTR, 192},
			{TransformINTEG, AUTH_AES_CMAC_96, 0}, {TransformESN, NO_ESN, 0}}, "aes192ctr-aescmac"},
		{"aes128ccm8", ProtoESP, []Transform{{TransformENCR, ENCR_AES_CCM_8, 128}, {TransformESN, NO_ESN, 0}}, "aes128ccm8"},
	} {
		p, err := ParseProposal(tc.in, tc.proto)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !slices.Equal(p.Transforms, tc.want) {
			t.Errorf("%s: transforms %v, want %v", tc.in, p.Transforms, tc.want)
		}
		if got := p.String(); got != tc.out {
			t.Errorf("%s: String() = %q, want %q", tc.in, got, tc.out)
		}
	}
}
