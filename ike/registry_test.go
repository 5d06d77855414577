package ike

import (
	"slices"
	"strings"
	"testing"
)

// checkRegistry checks that a registry list is sorted by unique IDs and that the
// lookup by ID finds each entry.
func checkRegistry[T any](t *testing.T, kind string, list []*T, id func(*T) uint16, lookup func(uint16) *T) {
	t.Helper()
	var ids []uint16
	for _, a := range list {
		ids = append(ids, id(a))
		if lookup(id(a)) != a {
			t.Errorf("%s %d is listed but not found", kind, id(a))
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("%s IDs %v are not sorted and unique", kind, ids)
	}
}

func TestRegistryLists(t *testing.T) {
	checkRegistry(t, "ENCR", EncrAlgs(), func(a *EncrAlg) uint16 { return a.ID }, Encr)
	checkRegistry(t, "PRF", PRFAlgs(), func(a *PRFAlg) uint16 { return a.ID }, PRF)
	checkRegistry(t, "INTEG", IntegAlgs(), func(a *IntegAlg) uint16 { return a.ID }, Integ)
	checkRegistry(t, "DH", DHGroups(), func(a *DHGroup) uint16 { return a.ID }, DH)

	if Encr(1) != nil || PRF(0) != nil || Integ(AUTH_NONE) != nil || DH(0) != nil {
		t.Error("lookup of an unimplemented ID is not nil")
	}
	EncrAlgs()[0] = nil
	if EncrAlgs()[0] == nil {
		t.Error("EncrAlgs returns the registry itself")
	}
}

// TestRegistryNames checks every entry's name against its IANA constant.
func TestRegistryNames(t *testing.T) {
	want := map[string]uint16{
		"ENCR_DES": ENCR_DES, "ENCR_3DES": ENCR_3DES, "ENCR_NULL": ENCR_NULL, "ENCR_AES_CBC": ENCR_AES_CBC,
		"ENCR_AES_GCM_8": ENCR_AES_GCM_8, "ENCR_AES_GCM_12": ENCR_AES_GCM_12, "ENCR_AES_GCM_16": ENCR_AES_GCM_16,
		"ENCR_CHACHA20_POLY1305": ENCR_CHACHA20_POLY1305, "ENCR_AES_CTR": ENCR_AES_CTR,
		"ENCR_AES_CCM_8": ENCR_AES_CCM_8, "ENCR_AES_CCM_12": ENCR_AES_CCM_12, "ENCR_AES_CCM_16": ENCR_AES_CCM_16,
		"ENCR_CAMELLIA_CBC": ENCR_CAMELLIA_CBC,
	}
	for _, a := range EncrAlgs() {
		if id, ok := want[a.Name]; !ok || id != a.ID {
			t.Errorf("ENCR %d is named %q", a.ID, a.Name)
		}
		if a.AEAD() != (strings.Contains(a.Name, "GCM") || strings.Contains(a.Name, "CCM")) && a.ID != ENCR_CHACHA20_POLY1305 {
			t.Errorf("%s: AEAD() = %v", a.Name, a.AEAD())
		}
	}
	for _, a := range PRFAlgs() {
		if !strings.HasPrefix(a.Name, "PRF_") || a.Size == 0 || a.KeySize == 0 {
			t.Errorf("PRF %d: %+v", a.ID, a)
		}
	}
	for _, g := range DHGroups() {
		weak := g.ID == MODP_768 || g.ID == MODP_1024 || g.ID == MODP_1536 ||
			g.ID == MODP_1024_160 || g.ID == MODP_2048_224 || g.ID == MODP_2048_256 // RFC 8247, Section 2.4
		if g.Weak != weak {
			t.Errorf("%s: Weak = %v", g.Name, g.Weak)
		}
	}
}

func TestTransformName(t *testing.T) {
	for _, tc := range []struct {
		t    Transform
		want string
	}{
		{Transform{Type: TransformENCR, ID: ENCR_AES_CBC, KeyLen: 128}, "ENCR_AES_CBC (128)"},
		{Transform{Type: TransformENCR, ID: ENCR_AES_GCM_16, KeyLen: 256}, "ENCR_AES_GCM_16 (256)"},
		{Transform{Type: TransformENCR, ID: ENCR_3DES}, "ENCR_3DES"},
		{Transform{Type: TransformPRF, ID: PRF_AES128_XCBC}, "PRF_AES128_XCBC"},
		{Transform{Type: TransformINTEG, ID: AUTH_NONE}, "AUTH_NONE"},
		{Transform{Type: TransformINTEG, ID: AUTH_HMAC_SHA2_512_256}, "AUTH_HMAC_SHA2_512_256"},
		{Transform{Type: TransformDH, ID: MODP_2048}, "MODP_2048"},
		{Transform{Type: TransformDH, ID: Curve25519}, "Curve25519"},
		{Transform{Type: TransformESN, ID: NO_ESN}, "NO_ESN"},
		{Transform{Type: TransformESN, ID: ESN}, "ESN"},
		{Transform{Type: TransformENCR, ID: ENCR_AES_CCM_12, KeyLen: 192}, "ENCR_AES_CCM_12 (192)"},
		{Transform{Type: TransformDH, ID: ECP_384_BP}, "ECP_384_BP"},
		{Transform{Type: TransformDH, ID: Curve448}, "Curve448"},
		{Transform{Type: TransformENCR, ID: 99}, "ENCR 99 (unknown)"},
		{Transform{Type: TransformDH, ID: 33}, "DH 33 (unknown)"},
		{Transform{Type: 9, ID: 1}, "TransformType(9) 1 (unknown)"},
	} {
		if got := TransformName(tc.t); got != tc.want {
			t.Errorf("TransformName(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	if ProtoESP.String() != "ESP" || Protocol(7).String() != "Protocol(7)" {
		t.Error("Protocol.String")
	}
}
