package ike

import (
	"bytes"
	"strings"
	"testing"
)

// Integrity test vectors: the ICV is the MAC truncated to the algorithm's length.
//   - RFC 2403 / RFC 2202 test case 5 for HMAC-MD5-96 and RFC 2404 / RFC 2202 test case 5
//     for HMAC-SHA1-96 ("Test With Truncation"), and test case 1;
//   - RFC 4868, Section 2.7.2.2: test cases AUTH256-1/-2, AUTH384-1/-2, AUTH512-1/-2, whose
//     keys are as long as the hash output.
var integVectors = []struct {
	id       uint16
	key, msg string
	icv      string
}{
	{AUTH_HMAC_MD5_96, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", "9294727a3638bb1c13f48ef8"},
	{AUTH_HMAC_MD5_96, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", "56461ef2342edc00f9bab995"},
	{AUTH_HMAC_SHA1_96, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", "b617318655057264e28bc0b6"},
	{AUTH_HMAC_SHA1_96, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", "4c1a03424b55e07fe7f27be1"},
	{AUTH_HMAC_SHA2_256_128, strings.Repeat("0b", 32), "Hi There", "198a607eb44bfbc69903a0f1cf2bbdc5"},
	{AUTH_HMAC_SHA2_256_128, strings.Repeat("4a656665", 8), "what do ya want for nothing?",
		"167f928588c5cc2eef8e3093caa0e87c"},
	{AUTH_HMAC_SHA2_384_192, strings.Repeat("0b", 48), "Hi There", "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"},
	{AUTH_HMAC_SHA2_384_192, strings.Repeat("4a656665", 12), "what do ya want for nothing?",
		"2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d"},
	{AUTH_HMAC_SHA2_512_256, strings.Repeat("0b", 64), "Hi There",
		"637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
	{AUTH_HMAC_SHA2_512_256, strings.Repeat("4a656665", 16), "what do ya want for nothing?",
		"cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"},
}

func TestIntegVectors(t *testing.T) {
	for _, v := range integVectors {
		a := Integ(v.id)
		key := unhex(t, v.key)
		if len(key) != a.KeySize && v.id >= AUTH_HMAC_SHA2_256_128 {
			t.Fatalf("%s: vector key of %d bytes, KeySize %d", a.Name, len(key), a.KeySize)
		}
		m := a.New(key)
		m.Write([]byte(v.msg))
		if got := m.Sum(nil)[:a.ICVSize]; !bytes.Equal(got, unhex(t, v.icv)) {
			t.Errorf("%s: ICV = %x, want %s", a.Name, got, v.icv)
		}
	}
}

// TestIntegRegistry checks the sizes RFC 4868 Section 2.6 and RFC 2403/2404/3566 give.
func TestIntegRegistry(t *testing.T) {
	want := map[uint16][2]int{ // key bytes, ICV bytes
		AUTH_HMAC_MD5_96: {16, 12}, AUTH_HMAC_SHA1_96: {20, 12}, AUTH_AES_XCBC_96: {16, 12},
		AUTH_HMAC_SHA2_256_128: {32, 16}, AUTH_HMAC_SHA2_384_192: {48, 24}, AUTH_HMAC_SHA2_512_256: {64, 32},
		AUTH_HMAC_SHA1_160: {20, 20}, AUTH_AES_CMAC_96: {16, 12}, AUTH_HMAC_MD5_128: {16, 16}, // RFC 4595, RFC 4494
		AUTH_HMAC_SHA2_256_96: {32, 12}, // draft-ietf-ipsec-ciph-sha-256-00
	}
	for _, a := range IntegAlgs() {
		if got := [2]int{a.KeySize, a.ICVSize}; got != want[a.ID] {
			t.Errorf("%s: key and ICV sizes %v, want %v", a.Name, got, want[a.ID])
		}
		if size := a.New(make([]byte, a.KeySize)).Size(); size < a.ICVSize {
			t.Errorf("%s: MAC of %d bytes is shorter than the ICV", a.Name, size)
		}
	}
	if len(want) != len(IntegAlgs()) {
		t.Errorf("registry has %d integrity algorithms, want %d", len(IntegAlgs()), len(want))
	}
}
