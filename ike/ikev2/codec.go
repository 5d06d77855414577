package ikev2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// HeaderLen is the size of the IKE header (RFC 7296, Section 3.1).
const HeaderLen = 28

// Version2 is the Version field of IKEv2: major version 2, minor version 0.
const Version2 = 0x20

// Header is the IKE header.
//
// RFC 7296, Section 3.1
type Header struct {
	SPIi        uint64 // IKE SA Initiator's SPI
	SPIr        uint64 // IKE SA Responder's SPI; zero in the first IKE_SA_INIT request
	NextPayload PayloadType
	Version     uint8 // major version in the high nibble; Marshal writes Version2 when 0
	Exchange    ExchangeType
	Flags       Flags
	MessageID   uint32
	Length      uint32 // whole message including this header; Marshal sets it
}

// IsResponse reports whether the R flag is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// FromInitiator reports whether the I flag is set: the original initiator of the IKE SA
// sent the message.
func (h *Header) FromInitiator() bool { return h.Flags&FlagInitiator != 0 }

// ParseHeader decodes the IKE header at the start of b and checks that its Length field
// matches len(b). Errors are *ParseError.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, &ParseError{Notify: INVALID_SYNTAX, Reason: fmt.Sprintf("message of %d bytes is shorter than the %d-byte IKE header", len(b), HeaderLen)}
	}
	s := cryptobyte.String(b)
	s.ReadUint64(&h.SPIi)
	s.ReadUint64(&h.SPIr)
	s.ReadUint8((*uint8)(&h.NextPayload))
	s.ReadUint8(&h.Version)
	s.ReadUint8((*uint8)(&h.Exchange))
	s.ReadUint8((*uint8)(&h.Flags))
	s.ReadUint32(&h.MessageID)
	s.ReadUint32(&h.Length)
	if h.Version>>4 != Version2>>4 {
		return h, &ParseError{Offset: 17, Notify: INVALID_MAJOR_VERSION, Reason: fmt.Sprintf("major version %d, want 2", h.Version>>4)}
	}
	if int64(h.Length) != int64(len(b)) {
		return h, &ParseError{Offset: 24, Notify: INVALID_SYNTAX, Reason: fmt.Sprintf("Length field says %d bytes, the message has %d", h.Length, len(b))}
	}
	return h, nil
}

// marshal writes the header into a buffer with room for the payloads that follow it.
func (h *Header) marshal() []byte {
	b := make([]byte, HeaderLen, 512)
	binary.BigEndian.PutUint64(b[0:], h.SPIi)
	binary.BigEndian.PutUint64(b[8:], h.SPIr)
	b[16] = byte(h.NextPayload)
	b[17] = h.Version
	if b[17] == 0 {
		b[17] = Version2
	}
	b[18] = byte(h.Exchange)
	b[19] = byte(h.Flags)
	binary.BigEndian.PutUint32(b[20:], h.MessageID)
	return b
}

// Message is one IKEv2 message: the header and its payloads in order. An SK payload is
// an *Encrypted and must be the last payload.
type Message struct {
	Header
	Payloads []Payload
	// Raw is the message as parsed, or as last marshaled. AUTH signs the raw
	// IKE_SA_INIT messages, so engines keep these exact bytes.
	Raw []byte
}

// ParseError says where and why a message could not be decoded, and which error
// notification answers it. It unwraps to that NotifyType, so errors.Is(err,
// INVALID_SYNTAX) works.
type ParseError struct {
	Payload PayloadType // the payload being decoded; PayloadNone for the IKE header
	Offset  int         // byte offset of the fault, in the message or, when Inner, in the SK plaintext
	Inner   bool        // the fault is inside the decrypted SK payload
	Notify  NotifyType  // INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD or INVALID_MAJOR_VERSION
	Reason  string
}

func (e *ParseError) Error() string {
	where := "IKE header"
	if e.Payload != PayloadNone {
		where = e.Payload.String() + " payload"
	}
	space := "message"
	if e.Inner {
		space = "decrypted SK payload"
	}
	return fmt.Sprintf("ikev2: %s, offset %d of the %s: %s", where, e.Offset, space, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Notify }

// Notification is the Notify payload that answers the error (RFC 7296, Section 3.10.1):
// UNSUPPORTED_CRITICAL_PAYLOAD carries the one-byte type of the payload.
func (e *ParseError) Notification() *Notify {
	n := &Notify{Type: e.Notify}
	if e.Notify == UNSUPPORTED_CRITICAL_PAYLOAD {
		n.Data = []byte{byte(e.Payload)}
	}
	return n
}

// Parse decodes a whole message. Every length must add up exactly; an SK payload is kept
// as ciphertext until Decrypt. Unknown payloads that are not critical become *Unknown.
// Errors are *ParseError.
func Parse(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	raw := append([]byte(nil), b...)
	ps, err := parseChain(raw[HeaderLen:], h.NextPayload, HeaderLen, false)
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Payloads: ps, Raw: raw}, nil
}

// encryptedPayload is implemented by SK and SKF: their Next Payload field names the
// first payload inside them, and nothing may follow them.
type encryptedPayload interface {
	Payload
	firstInner() PayloadType
	setFirstInner(t PayloadType, offset int)
}

// parseChain decodes the payloads of b, the first of type first. base is the offset of b
// in the byte space errors report (the message, or the SK plaintext when inner).
//
// RFC 7296, Section 3.2
func parseChain(b []byte, first PayloadType, base int, inner bool) ([]Payload, error) {
	var ps []Payload
	off := 0
	for next := first; next != PayloadNone; {
		fail := func(at int, format string, args ...any) error {
			return &ParseError{Payload: next, Offset: base + at, Inner: inner, Notify: INVALID_SYNTAX, Reason: fmt.Sprintf(format, args...)}
		}
		if len(b)-off < genericHeaderLen {
			return nil, fail(off, "generic payload header truncated: %d bytes left", len(b)-off)
		}
		np := PayloadType(b[off])
		critical := b[off+1]&0x80 != 0
		length := int(binary.BigEndian.Uint16(b[off+2:]))
		if length < genericHeaderLen || length > len(b)-off {
			return nil, fail(off+2, "payload length %d does not fit the %d bytes left", length, len(b)-off)
		}
		body := b[off+genericHeaderLen : off+length]
		p := newPayload(next)
		if p == nil {
			if critical {
				return nil, &ParseError{Payload: next, Offset: base + off, Inner: inner, Notify: UNSUPPORTED_CRITICAL_PAYLOAD,
					Reason: fmt.Sprintf("unknown payload type %d is marked critical", next)}
			}
			p = &Unknown{Type: next}
		}
		if err := p.unmarshalBody(body); err != nil {
			at := off + genericHeaderLen
			var be *bodyError
			if errors.As(err, &be) {
				at += be.at
			}
			return nil, fail(at, "%v", err)
		}
		if ep, ok := p.(encryptedPayload); ok {
			if inner {
				return nil, fail(off, "an encrypted payload inside an encrypted payload")
			}
			if off+length != len(b) {
				return nil, fail(off, "%d bytes follow the %v payload, which must be the last", len(b)-off-length, next)
			}
			ep.setFirstInner(np, base+off)
			np = PayloadNone
		}
		ps = append(ps, p)
		off += length
		next = np
	}
	if off != len(b) {
		return nil, &ParseError{Offset: base + off, Inner: inner, Notify: INVALID_SYNTAX,
			Reason: fmt.Sprintf("%d bytes after the last payload", len(b)-off)}
	}
	return ps, nil
}

// marshalChain appends ps, with their generic headers, each naming the next one's type,
// to dst. The last payload names after, or for SK and SKF the first payload inside
// them. first is the type of the first payload, or after when ps is empty. The bodies
// are built in place, behind their headers, whose length is filled in after.
//
// RFC 7296, Section 3.2
func marshalChain(dst []byte, ps []Payload, after PayloadType) (first PayloadType, out []byte, err error) {
	first = after
	if len(ps) > 0 {
		first = ps[0].PayloadType()
	}
	b := cryptobyte.NewBuilder(dst)
	for i, p := range ps {
		next := after
		if i+1 < len(ps) {
			next = ps[i+1].PayloadType()
		}
		if ep, ok := p.(encryptedPayload); ok {
			if i != len(ps)-1 || after != PayloadNone {
				return 0, nil, fmt.Errorf("ikev2: the %v payload must be the last payload", p.PayloadType())
			}
			next = ep.firstInner()
		}
		var flags byte
		if u, ok := p.(*Unknown); ok && u.Critical {
			flags = 0x80
		}
		cur, _ := b.Bytes() // no error: one would have ended the loop
		start := len(cur)
		b.AddUint8(uint8(next))
		b.AddUint8(flags)
		b.AddUint16(0) // the payload length, set once the body is written
		p.marshalBody(b)
		out, err := b.Bytes()
		if err != nil {
			return 0, nil, fmt.Errorf("ikev2: %v payload: %w", p.PayloadType(), err)
		}
		n := len(out) - start
		if n > 0xffff {
			return 0, nil, fmt.Errorf("ikev2: %v payload of %d bytes exceeds the 16-bit length", p.PayloadType(), n-genericHeaderLen)
		}
		binary.BigEndian.PutUint16(out[start+2:], uint16(n))
	}
	out, err = b.Bytes()
	return first, out, err
}

// Marshal encodes the message, fixing Next Payload and Length in the header. When the
// last payload is an *Encrypted and sk is set, its inner payloads are encrypted with a
// fresh IV from rand and the ICV is computed over the whole message. An *Encrypted that
// holds only ciphertext (parsed, never decrypted), or any *Encrypted when sk is nil, is
// written back as its Ciphertext. Marshal stores the result in m.Raw.
//
// RFC 7296, Sections 3.1, 3.2 and 3.14
func (m *Message) Marshal(sk *SKCrypto, rand io.Reader) ([]byte, error) {
	ps := m.Payloads
	var enc *Encrypted
	if n := len(ps); n > 0 {
		if e, ok := ps[n-1].(*Encrypted); ok {
			opaque := e.Ciphertext != nil && e.Inner == nil && !e.Decrypted
			switch {
			case sk != nil && !opaque:
				enc, ps = e, ps[:n-1]
			case e.Ciphertext == nil:
				return nil, errors.New("ikev2: the SK payload has no ciphertext and Marshal got no keys to encrypt it")
			}
		}
	}
	after := PayloadNone
	if enc != nil {
		after = PayloadSK
	}
	h := m.Header
	first, out, err := marshalChain(h.marshal(), ps, after)
	if err != nil {
		return nil, err
	}
	h.NextPayload = first
	out[16] = byte(first)
	if enc != nil {
		if out, err = enc.seal(out, sk, rand); err != nil {
			return nil, err
		}
	} else if err := setLength(out, len(out)); err != nil {
		return nil, err
	}
	if cap(out)-len(out) > len(out)/4 {
		// The message may be kept (for AUTH, for retransmission) as long as its SA:
		// not with the room the buffer had for a larger one.
		out = bytes.Clone(out)
		if enc != nil {
			enc.Ciphertext = out[enc.offset+genericHeaderLen:]
		}
	}
	m.Header = h
	m.Length = uint32(len(out))
	m.Version = out[17]
	m.Raw = out
	return out, nil
}

// setLength writes n into the Length field of the IKE header at the start of msg.
func setLength(msg []byte, n int) error {
	if int64(n) > 0xffffffff {
		return errors.New("ikev2: message too long")
	}
	binary.BigEndian.PutUint32(msg[24:], uint32(n))
	return nil
}
