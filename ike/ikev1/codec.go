package ikev1

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/ikesim/ikesim/ike"
)

// HeaderLen is the size of the ISAKMP header (RFC 2408, Section 3.1).
const HeaderLen = 28

// MaxClearPadding is how many bytes may follow the last payload of a message in clear.
// Senders align IKEv1 messages: libreswan pads every one to a multiple of 4 octets (its
// default ikepad=yes), so that a 2-byte tail follows an 18-byte ID in aggressive mode.
// A receiver takes up to 3 such bytes as padding; more means a chain that ended early.
const MaxClearPadding = 3

// Version1 is the Version field of IKEv1: major version 1, minor version 0.
const Version1 = 0x10

// Header is the ISAKMP header.
//
// RFC 2408, Section 3.1
type Header struct {
	ICookie     uint64 // Initiator Cookie: chosen by the initiator of the ISAKMP SA
	RCookie     uint64 // Responder Cookie: zero in the first message
	NextPayload PayloadType
	Version     uint8 // Marshal writes Version1 when 0
	Exchange    ExchangeType
	Flags       Flags
	MessageID   uint32 // zero in phase 1; random in every later exchange
	Length      uint32 // whole message including this header; Marshal sets it
}

// Encrypted reports whether the E flag is set.
func (h *Header) Encrypted() bool { return h.Flags&FlagEncryption != 0 }

// ParseError says where and why a message could not be decoded, and which notification
// answers it. It unwraps to that NotifyType, so errors.Is(err, PAYLOAD_MALFORMED) works.
type ParseError struct {
	Payload PayloadType // the payload being decoded; PayloadNone for the header
	Offset  int         // byte offset of the fault, in the message or, when Inner, in the plaintext
	Inner   bool        // the fault is in the decrypted payloads
	Notify  NotifyType
	Reason  string
}

func (e *ParseError) Error() string {
	where, space := "the ISAKMP header", "message"
	switch {
	case e.Payload != PayloadNone && e.Inner:
		where, space = fmt.Sprintf("the encrypted %v payload", e.Payload), "plaintext"
	case e.Payload != PayloadNone:
		where = fmt.Sprintf("the %v payload", e.Payload)
	case e.Inner:
		space = "plaintext"
	}
	return fmt.Sprintf("ikev1: in %s (byte %d of the %s): %s", where, e.Offset, space, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Notify }

// ParseHeader decodes the ISAKMP header at the start of b and checks the version and
// that the Length field matches len(b).
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, &ParseError{Notify: PAYLOAD_MALFORMED, Reason: fmt.Sprintf("message of %d bytes is shorter than the %d-byte ISAKMP header", len(b), HeaderLen)}
	}
	s := cryptobyte.String(b)
	s.ReadUint64(&h.ICookie)
	s.ReadUint64(&h.RCookie)
	s.ReadUint8((*uint8)(&h.NextPayload))
	s.ReadUint8(&h.Version)
	s.ReadUint8((*uint8)(&h.Exchange))
	s.ReadUint8((*uint8)(&h.Flags))
	s.ReadUint32(&h.MessageID)
	s.ReadUint32(&h.Length)
	if h.Version>>4 != 1 {
		return h, &ParseError{Offset: 17, Notify: INVALID_MAJOR_VERSION, Reason: fmt.Sprintf("major version %d, want 1", h.Version>>4)}
	}
	if int64(h.Length) != int64(len(b)) {
		return h, &ParseError{Offset: 24, Notify: UNEQUAL_PAYLOAD_LENGTHS, Reason: fmt.Sprintf("Length field says %d bytes, the message has %d", h.Length, len(b))}
	}
	return h, nil
}

func (h *Header) marshal(length int) []byte {
	b := make([]byte, HeaderLen)
	binary.BigEndian.PutUint64(b[0:], h.ICookie)
	binary.BigEndian.PutUint64(b[8:], h.RCookie)
	b[16] = byte(h.NextPayload)
	b[17] = h.Version
	if b[17] == 0 {
		b[17] = Version1
	}
	b[18] = byte(h.Exchange)
	b[19] = byte(h.Flags)
	binary.BigEndian.PutUint32(b[20:], h.MessageID)
	binary.BigEndian.PutUint32(b[24:], uint32(length))
	return b
}

// span is where one payload lies (generic header included) in its byte space: the
// message for clear payloads, the plaintext for encrypted ones.
type span struct{ off, n int }

// Message is one ISAKMP message: the header and its payloads. With the E flag set the
// payloads are encrypted as a whole (RFC 2408, Section 3.1): Parse keeps the ciphertext
// until Decrypt, Marshal encrypts.
type Message struct {
	Header
	Payloads []Payload
	// Raw is the message as parsed, or as last marshaled.
	Raw []byte
	// Plaintext is the decrypted payloads and padding, after Decrypt or Marshal of an
	// encrypted message.
	Plaintext []byte
	// Padding, when not nil, is what Marshal puts after the payloads: of an encrypted
	// message in place of the fewest zero bytes that fill the last block; of a message in
	// clear as it is (at most MaxClearPadding bytes). Parse and Decrypt set it to the
	// padding received.
	Padding []byte
	// Decrypted reports that Payloads were read by Decrypt.
	Decrypted bool
	// Chain, when not nil, is what Marshal writes in place of Payloads: a payload chain
	// as bytes (generic headers included), the first of type Header.NextPayload. It lets
	// tests and fuzzers send chains that the payload types would not write.
	Chain []byte
	spans []span
}

// Crypto protects one encrypted message: the ISAKMP SA's cipher and encryption key
// (RFC 2409, Appendix B) and the IV of this message in its exchange.
type Crypto struct {
	Encr *ike.EncrAlg
	Key  []byte
	IV   []byte
}

func (c *Crypto) check() error {
	switch {
	case c == nil || c.Encr == nil:
		return errors.New("ikev1: no cipher for an encrypted message")
	case c.Encr.AEAD() || c.Encr.BlockSize < 2:
		return fmt.Errorf("ikev1: %s is not a CBC cipher", c.Encr.Name)
	case len(c.IV) != c.Encr.BlockSize:
		return fmt.Errorf("ikev1: IV of %d bytes, %s wants %d", len(c.IV), c.Encr.Name, c.Encr.BlockSize)
	}
	return nil
}

// Parse decodes a message. The payloads of an encrypted message stay undecoded until
// Decrypt. Errors are *ParseError.
func Parse(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: h, Raw: clone(b)}
	if h.Encrypted() {
		return m, nil
	}
	ps, spans, end, err := parseChain(m.Raw[HeaderLen:], h.NextPayload, HeaderLen, false)
	if err != nil {
		return nil, err
	}
	if pad := len(m.Raw) - HeaderLen - end; pad > MaxClearPadding {
		return nil, &ParseError{Offset: HeaderLen + end, Notify: UNEQUAL_PAYLOAD_LENGTHS,
			Reason: fmt.Sprintf("%d bytes after the last payload: more than the %d bytes of padding that align a message to 4 octets", pad, MaxClearPadding)}
	} else if pad > 0 {
		m.Padding = m.Raw[HeaderLen+end:]
	}
	m.Payloads, m.spans = ps, spans
	return m, nil
}

// parseChain decodes the payloads of b, the first of type first, until one names no
// next payload. base is the offset of b in the byte space errors report. It returns where
// the chain ended: in a decrypted message, padding follows.
//
// RFC 2408, Section 3.2
func parseChain(b []byte, first PayloadType, base int, inner bool) ([]Payload, []span, int, error) {
	var ps []Payload
	var spans []span
	off := 0
	for next := first; next != PayloadNone; {
		fail := func(at int, notify NotifyType, format string, args ...any) error {
			return &ParseError{Payload: next, Offset: base + at, Inner: inner, Notify: notify, Reason: fmt.Sprintf(format, args...)}
		}
		if next == PayloadProposal || next == PayloadTransform {
			return nil, nil, 0, fail(off, INVALID_PAYLOAD_TYPE, "a %v payload outside an SA payload", next)
		}
		if len(b)-off < genericHeaderLen {
			return nil, nil, 0, fail(off, PAYLOAD_MALFORMED, "generic payload header truncated: %d bytes left", len(b)-off)
		}
		np := PayloadType(b[off])
		length := int(binary.BigEndian.Uint16(b[off+2:]))
		if length < genericHeaderLen || length > len(b)-off {
			return nil, nil, 0, fail(off+2, PAYLOAD_MALFORMED, "payload length %d does not fit the %d bytes left", length, len(b)-off)
		}
		p := newPayload(next)
		if p == nil {
			p = &Unknown{Type: next}
		}
		if err := p.unmarshalBody(b[off+genericHeaderLen : off+length]); err != nil {
			at := off + genericHeaderLen
			var fe *fieldError
			if errors.As(err, &fe) {
				at += fe.at
			}
			return nil, nil, 0, fail(at, PAYLOAD_MALFORMED, "%v", err)
		}
		ps = append(ps, p)
		spans = append(spans, span{base + off, length})
		off += length
		next = np
	}
	return ps, spans, off, nil
}

// marshalChain encodes ps with their generic headers, each naming the next one's type.
// It returns the type of the first payload (PayloadNone when ps is empty), the bytes, and
// where each payload lies in them.
//
// RFC 2408, Section 3.2
func marshalChain(ps []Payload) (PayloadType, []byte, []span, error) {
	first := PayloadNone
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	var out []byte
	var spans []span
	for i, p := range ps {
		next := PayloadNone
		if i+1 < len(ps) {
			next = ps[i+1].PayloadType()
		}
		body, err := PayloadBody(p)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("ikev1: %v payload: %w", p.PayloadType(), err)
		}
		n := genericHeaderLen + len(body)
		if n > 0xffff {
			return 0, nil, nil, fmt.Errorf("ikev1: %v payload of %d bytes exceeds the 16-bit length", p.PayloadType(), n)
		}
		spans = append(spans, span{len(out), n})
		out = append(out, byte(next), 0, byte(n>>8), byte(n))
		out = append(out, body...)
	}
	return first, out, spans, nil
}

// ChainBytes returns the payloads ps as they appear in a message, generic headers
// included: what quick mode's HASH(1) and the informational HASH cover when ps are the
// payloads that follow the HASH payload (RFC 2409, Sections 5.5 and 5.7).
func ChainBytes(ps []Payload) ([]byte, error) {
	_, b, _, err := marshalChain(ps)
	return b, err
}

// Marshal encodes the message, fixing Next Payload and Length in the header. With the E
// flag set it pads the payloads with zero bytes to a whole number of blocks and
// encrypts them with c (RFC 2408, Section 3.1; RFC 2409, Appendix B); in clear it
// appends m.Padding, if any. Marshal stores the result in m.Raw.
func (m *Message) Marshal(c *Crypto) ([]byte, error) {
	first, chain, spans, err := marshalChain(m.Payloads)
	if err != nil {
		return nil, err
	}
	if m.Chain != nil {
		first, chain, spans = m.NextPayload, clone(m.Chain), nil
	}
	h := m.Header
	h.NextPayload = first
	if h.Version == 0 {
		h.Version = Version1
	}
	var out []byte
	if h.Encrypted() {
		if err := c.check(); err != nil {
			return nil, err
		}
		bs := c.Encr.BlockSize
		padding := m.Padding
		if padding == nil {
			padding = make([]byte, (bs-len(chain)%bs)%bs)
		}
		if (len(chain)+len(padding))%bs != 0 {
			return nil, fmt.Errorf("ikev1: %d bytes of padding do not fill the %d-byte blocks of %s", len(padding), bs, c.Encr.Name)
		}
		plain := append(chain, padding...)
		ciph, err := c.Encr.New(c.Key)
		if err != nil {
			return nil, fmt.Errorf("ikev1: %s: %w", c.Encr.Name, err)
		}
		sealed := ciph.Seal(c.IV, plain, nil)
		if HeaderLen+len(sealed) > 0xffffffff {
			return nil, errors.New("ikev1: message too long")
		}
		out = append(h.marshal(HeaderLen+len(sealed)), sealed...)
		m.Plaintext, m.Padding = plain, padding
	} else {
		if len(m.Padding) > MaxClearPadding {
			return nil, fmt.Errorf("ikev1: %d bytes of padding after the payloads of a message in clear, at most %d", len(m.Padding), MaxClearPadding)
		}
		chain = append(chain, m.Padding...)
		out = append(h.marshal(HeaderLen+len(chain)), chain...)
		for i := range spans {
			spans[i].off += HeaderLen
		}
	}
	h.Length = uint32(len(out))
	m.Header, m.Raw, m.spans = h, out, spans
	return out, nil
}

// Decrypt decrypts the payloads of an encrypted message with c and parses them. The
// bytes after the last payload are padding (at most one block). A wrong key or IV shows
// as a *ParseError with Inner set (PAYLOAD-MALFORMED), which is how a receiver with the
// wrong pre-shared key fails.
func (m *Message) Decrypt(c *Crypto) error {
	if !m.Encrypted() {
		return errors.New("ikev1: the message is not encrypted")
	}
	if err := c.check(); err != nil {
		return err
	}
	plain, err := decryptBody(m.Raw, c)
	if err != nil {
		return err
	}
	ps, spans, end, err := parseChain(plain, m.NextPayload, 0, true)
	if err != nil {
		return err
	}
	if pad := len(plain) - end; pad > c.Encr.BlockSize {
		return &ParseError{Offset: end, Inner: true, Notify: PAYLOAD_MALFORMED,
			Reason: fmt.Sprintf("%d bytes after the last payload: more than a block of padding", pad)}
	}
	m.Payloads, m.spans, m.Plaintext, m.Padding, m.Decrypted = ps, spans, plain, plain[end:], true
	return nil
}

// decryptBody decrypts everything after the header of raw.
func decryptBody(raw []byte, c *Crypto) ([]byte, error) {
	body := raw[HeaderLen:]
	bs := c.Encr.BlockSize
	if len(body) == 0 || len(body)%bs != 0 {
		return nil, &ParseError{Offset: HeaderLen, Notify: PAYLOAD_MALFORMED,
			Reason: fmt.Sprintf("%d encrypted bytes are not a whole number of %d-byte blocks", len(body), bs)}
	}
	ciph, err := c.Encr.New(c.Key)
	if err != nil {
		return nil, fmt.Errorf("ikev1: %s: %w", c.Encr.Name, err)
	}
	return ciph.Open(c.IV, body, nil)
}

// LastBlock is the last ciphertext block of an encrypted message: the IV of the next
// message of its exchange (RFC 2409, Appendix B). It is nil for a message too short.
func LastBlock(raw []byte, blockSize int) []byte {
	if len(raw) < HeaderLen+blockSize {
		return nil
	}
	return clone(raw[len(raw)-blockSize:])
}

// PayloadBytes returns payload i as it lies in the message or, for an encrypted message,
// in its plaintext: generic header and body.
func (m *Message) PayloadBytes(i int) []byte {
	if i < 0 || i >= len(m.spans) {
		return nil
	}
	space := m.Raw
	if m.Encrypted() {
		space = m.Plaintext
	}
	s := m.spans[i]
	if s.off+s.n > len(space) {
		return nil
	}
	return space[s.off : s.off+s.n]
}

// After returns the bytes of the payloads that follow payload i, generic headers
// included and padding excluded: what the quick mode and informational hashes cover
// when payload i is the HASH payload.
func (m *Message) After(i int) []byte {
	if i < 0 || i+1 >= len(m.spans) {
		return nil
	}
	space := m.Raw
	if m.Encrypted() {
		space = m.Plaintext
	}
	last := m.spans[len(m.spans)-1]
	return space[m.spans[i+1].off : last.off+last.n]
}
