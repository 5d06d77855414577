package ikev2

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// sampleMessages are an IKE_SA_INIT-like message with every sample payload in the clear
// and an IKE_AUTH-like one with all of them inside an SK payload, with its keys.
func sampleMessages(t *testing.T) (plain, encrypted []byte, sk *SKCrypto) {
	t.Helper()
	ps := samplePayloads()
	plain = mustMarshal(t, &Message{Header: sampleHeader(IKE_SA_INIT), Payloads: ps})
	sk = testSK(t, ike.ENCR_AES_CBC, 256, ike.AUTH_HMAC_SHA2_512_256)
	m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Encrypted{Inner: ps}}}
	encrypted, err := m.Marshal(sk, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	return plain, encrypted, sk
}

// TestDissectExplainsEveryField checks that every field of the dissections of the sample
// messages says what it is for, lies inside its byte space, and that no field reports an
// error.
func TestDissectExplainsEveryField(t *testing.T) {
	plain, encrypted, sk := sampleMessages(t)
	for _, tc := range []struct {
		b  []byte
		sk *SKCrypto
	}{{plain, nil}, {encrypted, sk}, {encrypted, nil}} {
		root := Dissect(tc.b, tc.sk)
		checkOffsets(t, root, len(tc.b))
		n := 0
		root.Walk(func(f *ike.Field, _ int) {
			n++
			if f.Explain == "" {
				t.Errorf("field %q (%q) has no explanation", f.Name, f.Value)
			}
			if f.Error != "" {
				t.Errorf("field %q: %s", f.Name, f.Error)
			}
		})
		if n < 10 || (tc.b[18] != byte(IKE_AUTH) || tc.sk != nil) && n < 200 {
			t.Errorf("only %d fields", n)
		}
	}
	root := Dissect(encrypted, sk)
	df := root.Find("Decrypted payloads")
	if df == nil || len(df.Plain) == 0 || df.Find("Traffic Selector #2") == nil || df.Find("Pad Length") == nil {
		t.Fatalf("decrypted payloads %+v", df)
	}
	if enc := Dissect(encrypted, nil); enc.Find("Decrypted payloads") != nil || enc.Find("Encrypted Data") == nil {
		t.Fatal("dissection without keys shows decrypted payloads")
	}
}

// TestDissectValues spot-checks the values shown for a student.
func TestDissectValues(t *testing.T) {
	plain, _, _ := sampleMessages(t)
	root := Dissect(plain, nil)
	want := map[string]string{
		"IKEv2 message":       "IKE_SA_INIT request, message ID 1",
		"Initiator SPI":       "0102030405060708",
		"Flags":               "0x08 (I)",
		"Proposal #1":         "IKE: ENCR_AES_CBC (128), PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, MODP_2048",
		"Key Length":          "128 bits",
		"DH Group Num":        "MODP_2048 (14)",
		"Identification Data": "node-a.iklab.test",
		"Notify Message Type": "NAT_DETECTION_SOURCE_IP (16388)",
		"Traffic Selector #1": "10.77.1.1-10.77.1.1 proto 0 ports 0-65535",
		"Vendor ID Data":      "ikesim",
		"CFG Type":            "CFG_REQUEST (1)",
	}
	for name, v := range want {
		if f := root.Find(name); f == nil || f.Value != v {
			t.Errorf("%s: %+v, want %q", name, f, v)
		}
	}
	if f := root.Find("Notification Data"); f == nil || f.Value != "1111111111111111111111111111111111111111" {
		t.Errorf("notification data %+v", f)
	}
}

// TestDissectTruncated cuts the sample messages at every length: Dissect must not panic,
// must keep every field inside the bytes it got, and must say where reading stopped.
func TestDissectTruncated(t *testing.T) {
	plain, encrypted, sk := sampleMessages(t)
	for _, b := range [][]byte{plain, encrypted} {
		for n := 0; n < len(b); n++ {
			root := Dissect(b[:n], sk)
			checkOffsets(t, root, n)
			errs := 0
			root.Walk(func(f *ike.Field, _ int) {
				if f.Error != "" {
					errs++
				}
			})
			if errs == 0 {
				t.Fatalf("cut to %d of %d bytes: no field reports an error", n, len(b))
			}
		}
	}
}

// TestDissectMalformedPayload shows a payload whose body does not decode with its
// generic header, raw data and an error naming the offset, and goes on to the next one.
func TestDissectMalformedPayload(t *testing.T) {
	m := &Message{Header: sampleHeader(INFORMATIONAL), Payloads: []Payload{
		&ID{Type: IDIPv4Addr, Data: []byte{1, 2, 3, 4}}, &Nonce{Data: bytes.Repeat([]byte{9}, 16)}}}
	b := mustMarshal(t, m)
	b[HeaderLen+3] = 11                             // IDi payload length 12 → 11
	b = append(b[:HeaderLen+8], b[HeaderLen+9:]...) // drop one address byte
	setLength(b, len(b))
	root := Dissect(b, nil)
	id := root.Find("Identification - Initiator")
	if id == nil || !strings.Contains(id.Error, "offset 36") || id.Find("Data") == nil {
		t.Fatalf("IDi field %+v", id)
	}
	if nf := root.Find("Nonce Data"); nf == nil || nf.Value != strings.Repeat("09", 16) {
		t.Fatalf("the payload after the malformed one: %+v", nf)
	}
}

// TestDissectBadICV shows the decrypted payloads of a plain cipher even when the ICV is
// wrong, with the ICV marked incorrect.
func TestDissectBadICV(t *testing.T) {
	_, encrypted, sk := sampleMessages(t)
	encrypted[len(encrypted)-1] ^= 1
	root := Dissect(encrypted, sk)
	icv := root.Find("Integrity Checksum Data")
	if icv == nil || !strings.HasSuffix(icv.Value, "[incorrect]") || icv.Error == "" {
		t.Fatalf("ICV field %+v", icv)
	}
	if root.Find("Decrypted payloads") == nil {
		t.Fatal("no decrypted payloads")
	}
	gcm := testSK(t, ike.ENCR_AES_GCM_12, 128, 0)
	m := &Message{Header: sampleHeader(IKE_AUTH), Payloads: []Payload{&Encrypted{Inner: []Payload{&Nonce{Data: []byte{1}}}}}}
	b, err := m.Marshal(gcm, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	root = Dissect(b, gcm)
	if sk := root.Find("Encrypted and Authenticated"); sk == nil || sk.Error == "" || root.Find("Decrypted payloads") != nil {
		t.Fatalf("AEAD with a bad tag: %+v", sk)
	}
}
