package ikev2

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// errICV is what Decrypt returns when the ICV of an SK payload does not verify; it wraps
// ike.ErrIntegrity. RFC 7296, Section 2.21.2 has the receiver drop such a message.
var errICV = fmt.Errorf("ikev2: SK payload: %w", ike.ErrIntegrity)

// SKCrypto is the protection of SK payloads in one direction: SK_ei/SK_ai for messages
// from the original initiator, SK_er/SK_ar for those from the responder. Integ is nil for
// AEAD ciphers. EncrKey holds the whole keying material of the cipher, salt included.
//
// RFC 7296, Section 2.14
type SKCrypto struct {
	Encr        *ike.EncrAlg
	EncrKeyBits int
	EncrKey     []byte
	Integ       *ike.IntegAlg
	IntegKey    []byte
}

// Encrypted is the Encrypted and Authenticated payload (SK). It holds the inner payloads
// to encrypt, or the ciphertext as received and, after Message.Decrypt, the inner
// payloads read from it.
//
// RFC 7296, Section 3.14
type Encrypted struct {
	// FirstPayload is the SK header's Next Payload field: the type of the first inner
	// payload. Parse and Marshal set it.
	FirstPayload PayloadType
	// Inner are the inner payloads, to encrypt or as decrypted.
	Inner []Payload
	// RawChain, when not nil, is what Marshal encrypts in place of Inner: a chain of
	// inner payloads as bytes, the first of type FirstPayload. It lets a test peer
	// protect correctly what the codec would never build (ikev2test, fuzz targets).
	RawChain []byte
	// Ciphertext is the SK payload's body as on the wire: IV, encrypted data and ICV.
	Ciphertext []byte
	// Decrypted reports that Inner was read from Ciphertext by Message.Decrypt.
	Decrypted bool
	// Padding, when not nil, is the padding Marshal puts after the inner payloads in
	// place of the fewest zero bytes that fill the last cipher block. Decrypt sets it to
	// the padding received, so that a decrypted message marshals back to its bytes.
	Padding []byte
	// Plaintext is the decrypted data, padding and pad length included, after Decrypt
	// or Marshal.
	Plaintext []byte

	offset int // where the SK payload's generic header starts in the message
}

func (*Encrypted) PayloadType() PayloadType { return PayloadSK }

func (e *Encrypted) marshalBody(b *cryptobyte.Builder) { b.AddBytes(e.Ciphertext) }

func (e *Encrypted) unmarshalBody(body []byte) error {
	e.Ciphertext = append([]byte(nil), body...)
	return nil
}

func (e *Encrypted) firstInner() PayloadType { return e.FirstPayload }

func (e *Encrypted) setFirstInner(t PayloadType, offset int) { e.FirstPayload, e.offset = t, offset }

// EncryptedFragment is the Encrypted and Authenticated Fragment payload (SKF). This
// codec recognises it and keeps its ciphertext; it does not reassemble fragments.
//
// RFC 7383, Section 2.5
type EncryptedFragment struct {
	Number       uint16 // Fragment Number, from 1
	Total        uint16 // Total Fragments
	FirstPayload PayloadType
	Ciphertext   []byte // IV, encrypted data and ICV
}

func (*EncryptedFragment) PayloadType() PayloadType { return PayloadSKF }

func (f *EncryptedFragment) marshalBody(b *cryptobyte.Builder) {
	b.AddUint16(f.Number)
	b.AddUint16(f.Total)
	b.AddBytes(f.Ciphertext)
}

func (f *EncryptedFragment) unmarshalBody(body []byte) error {
	r := newReader(body)
	if err := r.readHeader(4, "fragment number and total", func(s *cryptobyte.String) bool {
		return s.ReadUint16(&f.Number) && s.ReadUint16(&f.Total)
	}); err != nil {
		return err
	}
	f.Ciphertext = r.rest()
	return nil
}

func (f *EncryptedFragment) firstInner() PayloadType { return f.FirstPayload }

func (f *EncryptedFragment) setFirstInner(t PayloadType, _ int) { f.FirstPayload = t }

// Encrypted returns the message's SK payload, or nil.
func (m *Message) Encrypted() *Encrypted {
	for _, p := range m.Payloads {
		if e, ok := p.(*Encrypted); ok {
			return e
		}
	}
	return nil
}

// Inner returns the payloads a reader of the message sees: the plain payloads with an
// SK payload replaced by the payloads decrypted or to be encrypted in it.
func (m *Message) Inner() []Payload {
	var out []Payload
	for _, p := range m.Payloads {
		if e, ok := p.(*Encrypted); ok {
			out = append(out, e.Inner...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// icvSize is the length of the ICV that ends the SK payload.
func (sk *SKCrypto) icvSize() int {
	if sk.Encr.AEAD() {
		return sk.Encr.ICVSize
	}
	return sk.Integ.ICVSize
}

// check verifies that the algorithms and keys fit together before any use.
func (sk *SKCrypto) check() error {
	switch {
	case sk.Encr == nil:
		return errors.New("ikev2: SK crypto without an encryption algorithm")
	case !sk.Encr.AEAD() && sk.Integ == nil:
		return fmt.Errorf("ikev2: %s needs an integrity algorithm", sk.Encr.Name)
	case len(sk.EncrKey) != sk.Encr.KeyBytes(sk.EncrKeyBits):
		return fmt.Errorf("ikev2: %s key of %d bytes, want %d", sk.Encr.Name, len(sk.EncrKey), sk.Encr.KeyBytes(sk.EncrKeyBits))
	case !sk.Encr.AEAD() && len(sk.IntegKey) != sk.Integ.KeySize:
		return fmt.Errorf("ikev2: %s key of %d bytes, want %d", sk.Integ.Name, len(sk.IntegKey), sk.Integ.KeySize)
	}
	return nil
}

// seal appends the SK payload to msg (the IKE header and the plain payloads before it,
// the last of which already names SK), fixes the message length, encrypts and, for
// non-AEAD ciphers, appends the ICV.
//
// RFC 7296, Section 3.14; RFC 5282, Section 5.1 for the associated data of AEAD ciphers
func (e *Encrypted) seal(msg []byte, sk *SKCrypto, rand io.Reader) ([]byte, error) {
	if err := sk.check(); err != nil {
		return nil, err
	}
	first, inner, err := marshalChain(make([]byte, 0, 256), e.Inner, PayloadNone)
	if err != nil {
		return nil, err
	}
	if e.RawChain != nil {
		first, inner = e.FirstPayload, append([]byte(nil), e.RawChain...)
	}
	padding := e.Padding
	if padding == nil {
		padding = sk.padding(len(inner))
	}
	if bs := max(sk.Encr.BlockSize, 1); len(padding) > 255 || (len(inner)+len(padding)+1)%bs != 0 {
		return nil, fmt.Errorf("ikev2: %d bytes of padding do not fill the %d-byte blocks of %s", len(padding), bs, sk.Encr.Name)
	}
	plain := append(append(inner, padding...), byte(len(padding)))
	offset := len(msg)
	msg, err = sk.sealPayload(msg, []byte{byte(first), 0, 0, 0}, plain, rand)
	if err != nil {
		return nil, err
	}
	e.FirstPayload, e.offset = first, offset
	e.Ciphertext = msg[offset+genericHeaderLen:]
	e.Plaintext = plain
	return msg, nil
}

// padding is the fewest zero bytes that, with the Pad Length byte, fill the last
// cipher block after n bytes of payloads.
func (sk *SKCrypto) padding(n int) []byte {
	bs := max(sk.Encr.BlockSize, 1)
	return make([]byte, (bs-(n+1)%bs)%bs)
}

// sealPayload appends an encrypted payload to msg (the IKE header and any payloads
// before it): hdr is its generic header, for SKF followed by the fragment fields, with
// the length left to fix; then a fresh IV, plain encrypted, and the ICV. It fixes the
// payload and message lengths. For AEAD ciphers the associated data runs from the IKE
// header through hdr.
//
// RFC 7296, Section 3.14; RFC 5282, Section 5.1; RFC 7383, Section 2.5
func (sk *SKCrypto) sealPayload(msg, hdr, plain []byte, rand io.Reader) ([]byte, error) {
	if !sk.Encr.AEAD() && sk.Integ.New == nil {
		return nil, fmt.Errorf("ikev2: %s cannot protect a message", sk.Integ.Name)
	}
	iv := make([]byte, sk.Encr.IVSize)
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, fmt.Errorf("ikev2: drawing the SK payload IV: %w", err)
	}
	pLen := len(hdr) + len(iv) + len(plain) + sk.icvSize()
	if pLen > 0xffff {
		return nil, fmt.Errorf("ikev2: SK payload of %d bytes exceeds the 16-bit length", pLen)
	}
	total := len(msg) + pLen
	if err := setLength(msg, total); err != nil {
		return nil, err
	}
	msg = append(msg, hdr...)
	binary.BigEndian.PutUint16(msg[total-pLen+2:], uint16(pLen))
	c, err := sk.Encr.New(sk.EncrKey)
	if err != nil {
		return nil, fmt.Errorf("ikev2: %s: %w", sk.Encr.Name, err)
	}
	var aad []byte
	if sk.Encr.AEAD() {
		aad = msg
	}
	sealed := c.Seal(iv, plain, aad)
	msg = append(append(msg, iv...), sealed...)
	if !sk.Encr.AEAD() {
		mac := sk.Integ.New(sk.IntegKey)
		mac.Write(msg)
		msg = append(msg, mac.Sum(nil)[:sk.Integ.ICVSize]...)
	}
	if len(msg) != total {
		return nil, fmt.Errorf("ikev2: %s sealed %d bytes into %d", sk.Encr.Name, len(plain), len(sealed))
	}
	return msg, nil
}

// opened is what the receiver sees when it opens an SK payload.
type opened struct {
	iv, ciphertext, icv []byte
	plain               []byte // nil when an AEAD cipher rejected the ICV
	icvOK               bool
	unchecked           bool // the ICV was not checked: no integrity algorithm to check it with
}

// open checks and decrypts the SK payload whose generic header starts at offset in msg.
// A plain cipher decrypts even when the ICV is wrong (the dissector shows both);
// an AEAD cipher cannot. What cannot be verified fails as an integrity error, whatever
// else is wrong with it: an SK payload too short to hold an ICV, or ciphertext that is
// no whole number of blocks under a wrong ICV (RFC 7296, Section 2.21.2 has the receiver
// drop both without a word). Whole blocks are checked after the ICV, and their lack is
// then a *ParseError of a message the peer really sent.
//
// RFC 7296, Section 3.14; RFC 5282, Section 5.1
func (sk *SKCrypto) open(msg []byte, offset int) (*opened, error) {
	if err := sk.check(); err != nil {
		return nil, err
	}
	body := msg[offset+genericHeaderLen:]
	ivLen, icvLen := sk.Encr.IVSize, sk.icvSize()
	if len(body) < ivLen+icvLen+1 {
		return nil, fmt.Errorf("ikev2: SK payload of %d bytes is too short for a %d-byte IV and a %d-byte ICV: %w",
			len(body), ivLen, icvLen, ike.ErrIntegrity)
	}
	o := &opened{iv: body[:ivLen], ciphertext: body[ivLen : len(body)-icvLen], icv: body[len(body)-icvLen:]}
	switch {
	case sk.Encr.AEAD():
	case sk.Integ.New == nil:
		// An ICV nobody can check (ike.UncheckedICV: a key table's "ANY n-bits of
		// Authentication [No Checking]"); imported captures only.
		o.icvOK, o.unchecked = true, true
	default:
		mac := sk.Integ.New(sk.IntegKey)
		mac.Write(msg[:len(msg)-icvLen])
		o.icvOK = hmac.Equal(mac.Sum(nil)[:icvLen], o.icv)
	}
	if bs := sk.Encr.BlockSize; bs > 1 && len(o.ciphertext)%bs != 0 {
		why := fmt.Sprintf("SK ciphertext of %d bytes is not a multiple of the %d-byte block", len(o.ciphertext), bs)
		if !o.icvOK {
			return nil, fmt.Errorf("ikev2: %s: %w", why, ike.ErrIntegrity)
		}
		return nil, &ParseError{Payload: PayloadSK, Offset: offset + genericHeaderLen + ivLen, Notify: INVALID_SYNTAX, Reason: why}
	}
	c, err := sk.Encr.New(sk.EncrKey)
	if err != nil {
		return nil, fmt.Errorf("ikev2: %s: %w", sk.Encr.Name, err)
	}
	if sk.Encr.AEAD() {
		plain, err := c.Open(o.iv, body[ivLen:], msg[:offset+genericHeaderLen])
		if err != nil {
			return o, errICV
		}
		o.plain, o.icvOK = plain, true
		return o, nil
	}
	if o.plain, err = c.Open(o.iv, o.ciphertext, nil); err != nil {
		return o, fmt.Errorf("ikev2: %s: %w", sk.Encr.Name, err)
	}
	return o, nil
}

// padLength returns the Pad Length of a decrypted SK payload and checks that it fits.
func padLength(plain []byte) (int, error) {
	if len(plain) == 0 {
		return 0, errors.New("ikev2: decrypted SK payload is empty: no Pad Length")
	}
	n := int(plain[len(plain)-1])
	if n+1 > len(plain) {
		return 0, fmt.Errorf("ikev2: Pad Length %d exceeds the %d decrypted bytes", n, len(plain)-1)
	}
	return n, nil
}

// Decrypt verifies the ICV of the message's SK payload, decrypts it and parses the inner
// payloads into it. raw is the message as received (m.Raw when nil). An SK payload that
// does not verify gives an error wrapping ike.ErrIntegrity; one that verifies but is
// malformed inside gives a *ParseError: a message with either is from the key holder.
//
// RFC 7296, Section 3.14
func (m *Message) Decrypt(raw []byte, sk *SKCrypto) error {
	e := m.Encrypted()
	if e == nil {
		return errors.New("ikev2: the message has no SK payload")
	}
	if raw == nil {
		raw = m.Raw
	}
	if e.offset < HeaderLen || e.offset+genericHeaderLen > len(raw) {
		return errors.New("ikev2: the SK payload's position in the raw message is unknown")
	}
	o, err := sk.open(raw, e.offset)
	if err != nil {
		return err
	}
	if !o.icvOK {
		return errICV
	}
	n, err := padLength(o.plain)
	if err != nil {
		return &ParseError{Payload: PayloadSK, Offset: len(o.plain) - 1, Inner: true, Notify: INVALID_SYNTAX, Reason: err.Error()}
	}
	ps, err := parseChain(o.plain[:len(o.plain)-1-n], e.FirstPayload, 0, true)
	if err != nil {
		return err
	}
	e.Inner, e.Plaintext, e.Decrypted = ps, o.plain, true
	e.Padding = o.plain[len(o.plain)-1-n : len(o.plain)-1]
	return nil
}
