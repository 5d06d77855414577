package ike

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

// HMAC test cases 1 and 2: RFC 2202 (HMAC-MD5, HMAC-SHA-1) and RFC 4231 (HMAC-SHA-256,
// -384, -512), which RFC 4868, Section 2.7.1 adopts for the PRF_HMAC_SHA2 PRFs.
var prfVectors = []struct {
	id       uint16
	key, msg string
	out      string
}{
	{PRF_HMAC_MD5, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", "9294727a3638bb1c13f48ef8158bfc9d"},
	{PRF_HMAC_MD5, "4a656665", "what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"},
	{PRF_HMAC_SHA1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		"b617318655057264e28bc0b6fb378c8ef146be00"},
	{PRF_HMAC_SHA1, "4a656665", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	{PRF_HMAC_SHA2_256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{PRF_HMAC_SHA2_256, "4a656665", "what do ya want for nothing?",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{PRF_HMAC_SHA2_384, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
	{PRF_HMAC_SHA2_512, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde" +
			"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
}

func TestPRFVectors(t *testing.T) {
	for _, v := range prfVectors {
		p := PRF(v.id)
		got := p.Sum(unhex(t, v.key), []byte(v.msg))
		if !bytes.Equal(got, unhex(t, v.out)) {
			t.Errorf("%s(%s, %q) = %x, want %s", p.Name, v.key, v.msg, got, v.out)
		}
		if len(got) != p.Size {
			t.Errorf("%s: output of %d bytes, Size says %d", p.Name, len(got), p.Size)
		}
	}
}

// TestPRFPlusDefinition builds prf+ by hand from RFC 7296, Section 2.13 with HMAC-SHA-256
// and checks PRFPlus against it, at lengths inside, at and across block boundaries.
func TestPRFPlusDefinition(t *testing.T) {
	key, seed := []byte("SKEYSEED"), []byte("Ni | Nr | SPIi | SPIr")
	mac := func(data ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, d := range data {
			m.Write(d)
		}
		return m.Sum(nil)
	}
	t1 := mac(seed, []byte{1})
	t2 := mac(t1, seed, []byte{2})
	t3 := mac(t2, seed, []byte{3})
	want := concat(t1, t2, t3)
	for _, n := range []int{0, 1, 31, 32, 33, 64, 70, 96} {
		if got := PRFPlus(PRF(PRF_HMAC_SHA2_256), key, seed, n); !bytes.Equal(got, want[:n]) {
			t.Errorf("PRFPlus(%d) = %x, want %x", n, got, want[:n])
		}
	}
}

func TestPRFPlusLimit(t *testing.T) {
	p := PRF(PRF_HMAC_SHA1)
	if got := PRFPlus(p, []byte("k"), nil, 255*p.Size); len(got) != 255*p.Size {
		t.Errorf("PRFPlus at the limit gave %d bytes", len(got))
	}
	defer func() {
		if recover() == nil {
			t.Error("PRFPlus gave more than 255 blocks")
		}
	}()
	PRFPlus(p, []byte("k"), nil, 255*p.Size+1)
}
