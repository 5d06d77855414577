package ikev2

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhexSpaced decodes hex written with spaces, as the RFCs print it.
func unhexSpaced(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMSCHAPv2RFC2759Vectors checks every step of MS-CHAPv2 against RFC 2759, Section
// 9.2 ("Sample MS-CHAP-2 Authentication"), pasted here:
//
//	0-to-256-char UserName:
//	55 73 65 72
//
//	0-to-256-unicode-char Password:
//	63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00
//
//	16-octet AuthenticatorChallenge:
//	5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28
//
//	16-octet PeerChallenge:
//	21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E
//
//	8-octet Challenge:
//	D0 2E 43 86 BC E9 12 26
//
//	16-octet PasswordHash:
//	44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE
//
//	24 octet NT-Response:
//	82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF
//
//	16-octet PasswordHashHash:
//	41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F
//
//	42-octet AuthenticatorResponse:
//	"S=407A5589115FD0D6209F510FE9C04566932CDA56"
func TestMSCHAPv2RFC2759Vectors(t *testing.T) {
	const user, password = "User", "clientPass"
	authChallenge := unhexSpaced(t, "5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28")
	peerChallenge := unhexSpaced(t, "21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E")
	wantChallenge := unhexSpaced(t, "D0 2E 43 86 BC E9 12 26")
	wantHash := unhexSpaced(t, "44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
	wantNT := unhexSpaced(t, "82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
	wantHashHash := unhexSpaced(t, "41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
	const wantAuthResponse = "S=407A5589115FD0D6209F510FE9C04566932CDA56"

	if got := ChallengeHash(peerChallenge, authChallenge, user); !bytes.Equal(got, wantChallenge) {
		t.Errorf("ChallengeHash = %X, want %X", got, wantChallenge)
	}
	hash := NtPasswordHash(password)
	if !bytes.Equal(hash, wantHash) {
		t.Errorf("NtPasswordHash = %X, want %X", hash, wantHash)
	}
	nt := GenerateNTResponse(authChallenge, peerChallenge, user, password)
	if !bytes.Equal(nt, wantNT) {
		t.Errorf("NT-Response = %X, want %X", nt, wantNT)
	}
	if got := HashNtPasswordHash(hash); !bytes.Equal(got, wantHashHash) {
		t.Errorf("PasswordHashHash = %X, want %X", got, wantHashHash)
	}
	if got := GenerateAuthenticatorResponse(hash, nt, peerChallenge, authChallenge, user); got != wantAuthResponse {
		t.Errorf("AuthenticatorResponse = %s, want %s", got, wantAuthResponse)
	}
	// A wrong password gives another NT-Response: the case that must fail.
	if bytes.Equal(GenerateNTResponse(authChallenge, peerChallenge, user, "clientPasS"), wantNT) {
		t.Error("a wrong password gives the same NT-Response")
	}
}

// TestMSCHAPv2KeysRFC3079 checks the key derivation against RFC 3079, Section 3.5.3
// ("Sample Key Derivations", 128-bit keys), which starts from the same values as RFC
// 2759's sample:
//
//	Step 3: Derive the master key (GetMasterKey())
//	   MasterKey = FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31
//	Step 4: Derive the master send session key (GetAsymmetricStartKey())
//	   SendStartKey128 = 8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB
func TestMSCHAPv2KeysRFC3079(t *testing.T) {
	hash := NtPasswordHash("clientPass")
	nt := unhexSpaced(t, "82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
	master := GetMasterKey(HashNtPasswordHash(hash), nt)
	if want := unhexSpaced(t, "FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31"); !bytes.Equal(master, want) {
		t.Fatalf("MasterKey = %X, want %X", master, want)
	}
	serverSend := GetAsymmetricStartKey(master, true, true)
	if want := unhexSpaced(t, "8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB"); !bytes.Equal(serverSend, want) {
		t.Errorf("SendStartKey128 = %X, want %X", serverSend, want)
	}
	// One side's send key is the other's receive key.
	if !bytes.Equal(GetAsymmetricStartKey(master, false, false), serverSend) {
		t.Error("the client's receive key differs from the server's send key")
	}
	if !bytes.Equal(GetAsymmetricStartKey(master, true, false), GetAsymmetricStartKey(master, false, true)) {
		t.Error("the client's send key differs from the server's receive key")
	}
	msk := mschapv2MSK(hash, nt)
	if len(msk) != 64 || !bytes.Equal(msk[16:32], serverSend) || !bytes.Equal(msk[32:], make([]byte, 32)) {
		t.Errorf("MSK %X is not receive key | send key | 32 zero bytes", msk)
	}
}
