package ikev2

import (
	"crypto/des"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	//lint:ignore SA1019 MS-CHAPv2 is defined on MD4 (RFC 2759, Section 8.3): no other hash will do
	"golang.org/x/crypto/md4"
)

// The computations of MS-CHAPv2 (RFC 2759, Section 8) and of its key derivation (RFC
// 3079, Section 3), as EAP-MSCHAPv2 uses them: the peer proves it knows the password
// with an NT-Response, the authenticator proves it too with an authenticator response,
// and both derive the MSK from the password hash and the NT-Response.

// NtPasswordHash is MD4 of the password in UTF-16 little endian.
//
// RFC 2759, Section 8.3
func NtPasswordHash(password string) []byte {
	h := md4.New()
	for _, u := range utf16.Encode([]rune(password)) {
		h.Write([]byte{byte(u), byte(u >> 8)})
	}
	return h.Sum(nil)
}

// HashNtPasswordHash is MD4 of the password hash.
//
// RFC 2759, Section 8.4
func HashNtPasswordHash(passwordHash []byte) []byte {
	h := md4.New()
	h.Write(passwordHash)
	return h.Sum(nil)
}

// ChallengeHash is the first 8 bytes of SHA-1(PeerChallenge | AuthenticatorChallenge |
// UserName). The user name is taken without any domain part, as sent.
//
// RFC 2759, Section 8.2
func ChallengeHash(peerChallenge, authenticatorChallenge []byte, userName string) []byte {
	h := sha1.New()
	h.Write(peerChallenge)
	h.Write(authenticatorChallenge)
	h.Write([]byte(userName))
	return h.Sum(nil)[:8]
}

// ChallengeResponse encrypts the 8-byte challenge with three DES keys made from the
// password hash padded to 21 bytes.
//
// RFC 2759, Section 8.5
func ChallengeResponse(challenge, passwordHash []byte) []byte {
	z := make([]byte, 21)
	copy(z, passwordHash)
	out := make([]byte, 0, 24)
	for i := 0; i < 3; i++ {
		out = append(out, desEncrypt(z[7*i:7*i+7], challenge)...)
	}
	return out
}

// desEncrypt encrypts one block with a 7-byte key spread over DES's eight key bytes
// (the parity bits are ignored by DES).
//
// RFC 2759, Section 8.6
func desEncrypt(key7, block []byte) []byte {
	var k [8]byte
	var bits uint64
	for _, b := range key7 {
		bits = bits<<8 | uint64(b)
	}
	for i := 0; i < 8; i++ {
		k[i] = byte(bits>>(56-7*(i+1))) << 1
	}
	c, _ := des.NewCipher(k[:]) // an 8-byte key never fails
	out := make([]byte, 8)
	c.Encrypt(out, block)
	return out
}

// GenerateNTResponse is the peer's 24-byte answer to the authenticator's challenge.
//
// RFC 2759, Section 8.1
func GenerateNTResponse(authenticatorChallenge, peerChallenge []byte, userName, password string) []byte {
	return ChallengeResponse(ChallengeHash(peerChallenge, authenticatorChallenge, userName), NtPasswordHash(password))
}

// The magic constants of the authenticator response (RFC 2759, Section 8.7).
var (
	authMagic1 = []byte("Magic server to client signing constant")
	authMagic2 = []byte("Pad to make it do more than one iteration")
)

// GenerateAuthenticatorResponse is the authenticator's proof, "S=" and 40 hex digits.
//
// RFC 2759, Section 8.7
func GenerateAuthenticatorResponse(passwordHash, ntResponse, peerChallenge, authenticatorChallenge []byte, userName string) string {
	h := sha1.New()
	h.Write(HashNtPasswordHash(passwordHash))
	h.Write(ntResponse)
	h.Write(authMagic1)
	digest := h.Sum(nil)
	h = sha1.New()
	h.Write(digest)
	h.Write(ChallengeHash(peerChallenge, authenticatorChallenge, userName))
	h.Write(authMagic2)
	return "S=" + strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// The magic constants of the MPPE key derivation (RFC 3079, Section 3.4).
var (
	keyMagic1 = []byte("This is the MPPE Master Key")
	keyMagic2 = []byte("On the client side, this is the send key; on the server side, it is the receive key.")
	keyMagic3 = []byte("On the client side, this is the receive key; on the server side, it is the send key.")
	shsPad1   = make([]byte, 40)
	shsPad2   = []byte(strings.Repeat("\xf2", 40))
)

// GetMasterKey is the first 16 bytes of SHA-1(PasswordHashHash | NT-Response | Magic1).
//
// RFC 3079, Section 3.4
func GetMasterKey(passwordHashHash, ntResponse []byte) []byte {
	h := sha1.New()
	h.Write(passwordHashHash)
	h.Write(ntResponse)
	h.Write(keyMagic1)
	return h.Sum(nil)[:16]
}

// GetAsymmetricStartKey derives the 16-byte send or receive key of the client or the
// server from the master key.
//
// RFC 3079, Section 3.4
func GetAsymmetricStartKey(masterKey []byte, isSend, isServer bool) []byte {
	magic := keyMagic3
	if isSend != isServer {
		magic = keyMagic2 // the client's send key, the server's receive key
	}
	h := sha1.New()
	h.Write(masterKey)
	h.Write(shsPad1)
	h.Write(magic)
	h.Write(shsPad2)
	return h.Sum(nil)[:16]
}

// mschapv2MSK is the EAP-MSCHAPv2 Master Session Key: the authenticator's receive key,
// its send key, and 32 zero bytes, the same on both ends.
func mschapv2MSK(passwordHash, ntResponse []byte) []byte {
	master := GetMasterKey(HashNtPasswordHash(passwordHash), ntResponse)
	msk := append(GetAsymmetricStartKey(master, false, true), GetAsymmetricStartKey(master, true, true)...)
	return append(msk, make([]byte, 32)...)
}
