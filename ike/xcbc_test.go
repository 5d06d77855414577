package ike

import (
	"bytes"
	"testing"
)

// RFC 3566, Section 4.6: AES-XCBC-MAC test cases 1 to 7, with the key
// 000102030405060708090a0b0c0d0e0f. The RFC lists the full 128-bit MAC; AES-XCBC-MAC-96
// is its first 96 bits. Case 7 is 1000 zero bytes.
var xcbcMACVectors = []struct{ msg, mac string }{
	{"", "75f0251d528ac01c4573dfd584d79f29"},
	{"000102", "5b376580ae2f19afe7219ceef172756f"},
	{"000102030405060708090a0b0c0d0e0f", "d2a246fa349b68a79998a4394ff7a263"},
	{"000102030405060708090a0b0c0d0e0f10111213", "47f51b4564966215b8985c63055ed308"},
	{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "f54f0ec8d2b9f3d36807734bd5283fd4"},
	{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021", "becbb3bccdb518a30677d5481fb6b4d8"},
	{"zeros1000", "f0dafee895db30253761103b5d84528f"},
}

const xcbcKey = "000102030405060708090a0b0c0d0e0f"

func xcbcMessage(t *testing.T, m string) []byte {
	if m == "zeros1000" {
		return make([]byte, 1000)
	}
	return unhex(t, m)
}

func TestXCBCMACVectors(t *testing.T) {
	key := unhex(t, xcbcKey)
	for i, v := range xcbcMACVectors {
		msg, want := xcbcMessage(t, v.msg), unhex(t, v.mac)
		h := newXCBC(key)
		h.Write(msg)
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("case %d: MAC = %x, want %x", i+1, got, want)
		}
		// The same through the registry's AUTH_AES_XCBC_96, truncated to its ICV.
		a := Integ(AUTH_AES_XCBC_96)
		m := a.New(key)
		m.Write(msg)
		if got := m.Sum(nil)[:a.ICVSize]; !bytes.Equal(got, want[:12]) {
			t.Errorf("case %d: AES-XCBC-MAC-96 = %x, want %x", i+1, got, want[:12])
		}
	}
}

// TestXCBCStreaming checks that writing in pieces, summing twice and resetting all give
// the one-shot MAC: the held-back last block must not be processed early.
func TestXCBCStreaming(t *testing.T) {
	key := unhex(t, xcbcKey)
	msg := unhex(t, xcbcMACVectors[5].msg) // 34 bytes
	want := unhex(t, xcbcMACVectors[5].mac)
	for _, split := range []int{0, 1, 15, 16, 17, 32, 33, 34} {
		h := newXCBC(key)
		h.Write(msg[:split])
		h.Sum(nil) // must not disturb the state
		h.Write(msg[split:])
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("split at %d: MAC = %x, want %x", split, got, want)
		}
		h.Reset()
		h.Write(msg)
		if got := h.Sum([]byte{0xee}); !bytes.Equal(got[1:], want) || got[0] != 0xee {
			t.Errorf("split at %d: after Reset, Sum = %x", split, got)
		}
	}
}

// TestXCBCPRFVectors uses RFC 4434, Section 4: AES-XCBC-PRF-128 of the 20-byte message
// 000102...13 with keys of 16, 10 and 18 bytes.
func TestXCBCPRFVectors(t *testing.T) {
	msg := unhex(t, "000102030405060708090a0b0c0d0e0f10111213")
	for _, v := range []struct{ key, out string }{
		{"000102030405060708090a0b0c0d0e0f", "47f51b4564966215b8985c63055ed308"},
		{"00010203040506070809", "0fa087af7d866e7653434e602fdde835"},
		{"000102030405060708090a0b0c0d0e0fedcb", "8cd3c93ae598a9803006ffb67c40e9e4"},
	} {
		if got := PRF(PRF_AES128_XCBC).Sum(unhex(t, v.key), msg); !bytes.Equal(got, unhex(t, v.out)) {
			t.Errorf("key %s: PRF = %x, want %s", v.key, got, v.out)
		}
	}
}

func TestXCBCBadKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("newXCBC accepted a 15-byte key")
		}
	}()
	newXCBC(make([]byte, 15))
}
