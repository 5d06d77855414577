package ikev1test

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
)

// PeerConfig is who a peer says it is and what it offers.
type PeerConfig struct {
	Addr      netip.AddrPort // the peer's own address
	PSK       []byte
	ID        ike.Identity
	Proposals []ike.Proposal // phase 1: what an initiating peer offers; a responding peer takes the victim's first transform
	Auth      uint16         // the Authentication Method it offers; 0 is ikev1.AuthPSK
	Vendors   [][]byte       // vendor IDs of its first phase 1 message
	// ClearAggressive3 sends aggressive mode message 3 in clear, as RFC 2409 draws it,
	// where ikesim and strongSwan encrypt it.
	ClearAggressive3 bool
}

// Peer is an IKEv1 peer of the victim under a test's control. Once phase 1 is done it
// holds the ISAKMP SA's keys: Send protects any exchange with them.
type Peer struct {
	PeerConfig
	net    *Net
	rand   io.Reader
	Victim netip.AddrPort // where it sends: the victim's address, port 500

	// The ISAKMP SA, as far as phase 1 got.
	ICookie, RCookie uint64
	Initiator        bool
	Aggressive       bool
	Suite            ikev1.Phase1Suite
	Keys             ikev1.Keys
	EncKey           []byte
	IVs              *ikev1.IVs
	Established      bool
	saiB             []byte
	dh               ike.DHPrivate
	gxi, gxr, ni, nr []byte
	sent             int // phase 1 messages sent

	inbox []ike.Datagram
	seen  map[string]*Received
	out   [][]byte
}

// Received is a message the victim sent to a peer, decrypted when the peer could.
type Received struct {
	Datagram ike.Datagram
	Msg      *ikev1.Message // nil when it did not parse
	Err      error          // why it did not parse or decrypt
	Again    bool           // the same bytes came before: the victim retransmitted
}

// NewPeer adds a peer at cfg.Addr (port 500 when none is given).
func (n *Net) NewPeer(cfg PeerConfig) *Peer {
	if cfg.Addr.Port() == 0 {
		cfg.Addr = netip.AddrPortFrom(cfg.Addr.Addr(), ike.PortIKE)
	}
	if cfg.Auth == 0 {
		cfg.Auth = ikev1.AuthPSK
	}
	p := &Peer{PeerConfig: cfg, net: n, rand: n.rand("peer " + cfg.Addr.String()), Victim: netip.AddrPortFrom(n.Victim.Addr, ike.PortIKE),
		seen: map[string]*Received{}}
	n.peers[cfg.Addr.Addr()] = p
	return p
}

func (p *Peer) receive(dg ike.Datagram) { p.inbox = append(p.inbox, dg) }

// Pending is how many messages from the victim wait in the inbox.
func (p *Peer) Pending() int { return len(p.inbox) }

// Next takes the oldest message from the inbox, or returns nil. An encrypted message is
// decrypted with the IV of its exchange, which then moves on (RFC 2409, Appendix B).
func (p *Peer) Next() *Received {
	if len(p.inbox) == 0 {
		return nil
	}
	dg := p.inbox[0]
	p.inbox = p.inbox[1:]
	if r := p.seen[string(dg.Data)]; r != nil {
		again := *r
		again.Datagram, again.Again = dg, true
		return &again
	}
	r := &Received{Datagram: dg}
	r.Msg, r.Err = ikev1.Parse(dg.Data)
	if r.Err == nil && r.Msg.Encrypted() {
		switch {
		case p.IVs == nil:
			r.Err = errors.New("ikev1test: an encrypted message before the keys exist")
		default:
			c := p.IVs.Crypto(p.Suite.Encr, p.EncKey, r.Msg.MessageID)
			if r.Err = r.Msg.Decrypt(c); r.Err == nil {
				p.IVs.Advance(r.Msg.MessageID, dg.Data)
			}
		}
	}
	p.seen[string(dg.Data)] = r
	return r
}

// Peek parses the oldest message of the inbox without taking it (nor decrypting it), or
// returns nil.
func (p *Peer) Peek() *ikev1.Message {
	if len(p.inbox) == 0 {
		return nil
	}
	m, _ := ikev1.Parse(p.inbox[0].Data)
	return m
}

// Requeue puts a message taken with Next back at the front of the inbox, read as it
// was (its exchange's IV chain does not move again): to read a message now and let a
// later step take it.
func (p *Peer) Requeue(r *Received) {
	p.inbox = append([]ike.Datagram{r.Datagram}, p.inbox...)
}

// Drain takes every message from the inbox.
func (p *Peer) Drain() []*Received {
	var out []*Received
	for r := p.Next(); r != nil; r = p.Next() {
		out = append(out, r)
	}
	return out
}

// Expect takes the next message, which must be of exchange ex and readable.
func (p *Peer) Expect(ex ikev1.ExchangeType) (*Received, error) {
	r := p.Next()
	switch {
	case r == nil:
		return nil, fmt.Errorf("ikev1test: the victim sent no %v message; its errors: %v", ex, p.net.Victim.Texts(0, KindError))
	case r.Err != nil:
		return r, fmt.Errorf("ikev1test: %v", r.Err)
	case r.Msg.Exchange != ex:
		return r, fmt.Errorf("ikev1test: the victim sent %v, want %v", r.Msg.Exchange, ex)
	}
	return r, nil
}

// Sent returns every datagram the peer sent, in order: for replays.
func (p *Peer) Sent() [][]byte { return slices.Clone(p.out) }

// Raw sends bytes as they are: a forgery, or a replay of Sent()[i].
func (p *Peer) Raw(b []byte) { p.RawFrom(p.Addr, b) }

// RawFrom sends bytes from another source address: a spoofed one.
func (p *Peer) RawFrom(from netip.AddrPort, b []byte) {
	p.out = append(p.out, slices.Clone(b))
	p.net.deliver(from, p.Victim, b)
}

// Forge builds a message with the ISAKMP SA's cookies, the given header fields and body
// bytes after the header, as someone who only saw the cookies on the wire could. Send
// it with Raw or RawFrom.
func (p *Peer) Forge(ex ikev1.ExchangeType, msgID uint32, flags ikev1.Flags, next ikev1.PayloadType, body []byte) []byte {
	b := make([]byte, ikev1.HeaderLen, ikev1.HeaderLen+len(body))
	binary.BigEndian.PutUint64(b[0:], p.ICookie)
	binary.BigEndian.PutUint64(b[8:], p.RCookie)
	b[16], b[17], b[18], b[19] = byte(next), ikev1.Version1, byte(ex), byte(flags)
	binary.BigEndian.PutUint32(b[20:], msgID)
	binary.BigEndian.PutUint32(b[24:], uint32(ikev1.HeaderLen+len(body)))
	return append(b, body...)
}

// Reset forgets the ISAKMP SA: the next MainMode, AggressiveMode or Respond call starts
// a new one.
func (p *Peer) Reset() {
	p.ICookie, p.RCookie, p.Initiator, p.Established, p.sent = 0, 0, false, false, 0
	p.Suite, p.Keys, p.EncKey, p.IVs, p.saiB, p.dh = ikev1.Phase1Suite{}, ikev1.Keys{}, nil, nil, nil, nil
	p.gxi, p.gxr, p.ni, p.nr = nil, nil, nil, nil
}

func (p *Peer) random(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(p.rand, b)
	return b
}

// Cookies is CKY-I | CKY-R, the SPI of the ISAKMP SA in notifications and deletes.
func (p *Peer) Cookies() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, p.ICookie), p.RCookie)
}

// MessageID draws a fresh non-zero message ID.
func (p *Peer) MessageID() uint32 {
	for {
		if v := binary.BigEndian.Uint32(p.random(4)); v != 0 {
			return v
		}
	}
}

func (p *Peer) header(ex ikev1.ExchangeType, id uint32) ikev1.Header {
	return ikev1.Header{ICookie: p.ICookie, RCookie: p.RCookie, Exchange: ex, MessageID: id}
}

// sendPhase1 sends a phase 1 message, encrypted when encrypt is set.
func (p *Peer) sendPhase1(ex ikev1.ExchangeType, ps []ikev1.Payload, encrypt bool) ([]byte, error) {
	m := &ikev1.Message{Header: p.header(ex, 0), Payloads: ps}
	var c *ikev1.Crypto
	if encrypt {
		m.Flags = ikev1.FlagEncryption
		c = p.IVs.Crypto(p.Suite.Encr, p.EncKey, 0)
	}
	raw, err := m.Marshal(c)
	if err != nil {
		return nil, err
	}
	if encrypt {
		p.IVs.Advance(0, raw)
	}
	p.sent++
	p.Raw(raw)
	return raw, nil
}

func (p *Peer) offer() (*ikev1.SA, error) {
	var group uint16
	if p.Aggressive && len(p.Proposals) > 0 {
		for _, t := range p.Proposals[0].Transforms {
			if t.Type == ike.TransformDH && group == 0 {
				group = t.ID
			}
		}
	}
	offer, _, err := ikev1.Phase1Offer(p.Proposals, p.Auth, 24*time.Hour, group)
	if err != nil {
		return nil, err
	}
	p.saiB, err = ikev1.PayloadBody(offer)
	return offer, err
}

func (p *Peer) vendors() []ikev1.Payload {
	var ps []ikev1.Payload
	for _, v := range p.Vendors {
		ps = append(ps, ikev1.NewVendorID(v))
	}
	return ps
}

// adopt takes the transform of an SA payload holding one.
func (p *Peer) adopt(sa *ikev1.SA) error {
	if sa == nil || len(sa.Proposals) == 0 || len(sa.Proposals[0].Transforms) == 0 {
		return errors.New("ikev1test: no transform in the SA payload")
	}
	s, err := ikev1.ReadPhase1Transform(sa.Proposals[0].Transforms[0])
	if err != nil {
		return err
	}
	p.Suite = s
	return nil
}

func (p *Peer) generateDH() error {
	priv, err := p.Suite.Group.Generate(p.rand)
	if err != nil {
		return err
	}
	p.dh = priv
	if p.Initiator {
		p.gxi = priv.Public()
	} else {
		p.gxr = priv.Public()
	}
	return nil
}

// deriveKeys computes SKEYID and its derivatives, the encryption key and the first IV
// (RFC 2409, Section 5 and Appendix B) from the other side's KE.
func (p *Peer) deriveKeys(peerKE []byte) error {
	gxy, err := p.dh.Shared(peerKE)
	if err != nil {
		return err
	}
	prf := p.Suite.Hash.PRF
	skeyid := ikev1.SKEYIDPreShared(prf, p.PSK, p.ni, p.nr)
	p.Keys = ikev1.DeriveKeys(prf, skeyid, gxy, p.ICookie, p.RCookie)
	p.EncKey = ikev1.EncryptionKey(prf, p.Keys.SKEYID_e, p.Suite.KeyBytes)
	p.IVs = ikev1.NewIVs(p.Suite.Hash, p.Suite.Encr.BlockSize, p.gxi, p.gxr)
	return nil
}

// proof is this side's ID payload and HASH_I or HASH_R.
func (p *Peer) proof() []ikev1.Payload {
	id := ikev1.IdentityID(p.ID)
	idB, _ := ikev1.PayloadBody(id)
	h := ikev1.HashR(p.Suite.Hash.PRF, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.saiB, idB)
	if p.Initiator {
		h = ikev1.HashI(p.Suite.Hash.PRF, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.saiB, idB)
	}
	return []ikev1.Payload{id, ikev1.NewHash(h)}
}

// checkProof verifies the victim's HASH_I or HASH_R over its ID payload.
func (p *Peer) checkProof(m *ikev1.Message) error {
	idx := -1
	var h *ikev1.Hash
	for i, pl := range m.Payloads {
		switch pl := pl.(type) {
		case *ikev1.ID:
			if idx < 0 {
				idx = i
			}
		case *ikev1.Hash:
			h = pl
		}
	}
	if idx < 0 || h == nil {
		return errors.New("ikev1test: the victim's message lacks ID or HASH")
	}
	idB := m.PayloadBytes(idx)[4:]
	want := ikev1.HashI(p.Suite.Hash.PRF, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.saiB, idB)
	if p.Initiator {
		want = ikev1.HashR(p.Suite.Hash.PRF, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.saiB, idB)
	}
	if !hmac.Equal(h.Data, want) {
		return errors.New("ikev1test: the victim's HASH does not verify")
	}
	return nil
}

func payload[T ikev1.Payload](ps []ikev1.Payload) T {
	var zero T
	for _, p := range ps {
		if t, ok := p.(T); ok {
			return t
		}
	}
	return zero
}

// roundTrip sends a phase 1 message and reads the victim's answer in the same exchange.
func (p *Peer) roundTrip(ex ikev1.ExchangeType, ps []ikev1.Payload, encrypt bool) (*ikev1.Message, error) {
	if _, err := p.sendPhase1(ex, ps, encrypt); err != nil {
		return nil, err
	}
	r, err := p.Expect(ex)
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}

// begin starts an ISAKMP SA as initiator: a cookie and the SA payload to offer.
func (p *Peer) begin(aggressive bool) (*ikev1.SA, error) {
	p.Initiator, p.Aggressive = true, aggressive
	p.ICookie = binary.BigEndian.Uint64(p.random(8))
	return p.offer()
}

// takeKE reads the responder's KE and Nr from message m and derives the keys.
func (p *Peer) takeKE(m *ikev1.Message) error {
	ke, nr := payload[*ikev1.KE](m.Payloads), payload[*ikev1.Nonce](m.Payloads)
	if ke == nil || nr == nil {
		return fmt.Errorf("ikev1test: the victim's %v message lacks KE or Nr", m.Exchange)
	}
	p.gxr, p.nr = ke.Data, nr.Data
	return p.deriveKeys(p.gxr)
}

// MainMode runs main mode as initiator (RFC 2409, Section 5), from where it stopped up
// to message upTo (1, 3 or 5), reading the victim's answer after each. MainMode(1)
// leaves the victim waiting for message 3, MainMode(3) waiting for message 5, and
// MainMode(5) completes phase 1 and checks the victim's HASH_R.
func (p *Peer) MainMode(upTo int) error {
	for p.sent < (upTo+1)/2 {
		var m *ikev1.Message
		var err error
		switch p.sent {
		case 0:
			var offer *ikev1.SA
			if offer, err = p.begin(false); err == nil {
				m, err = p.roundTrip(ikev1.ExchangeMain, append([]ikev1.Payload{offer}, p.vendors()...), false)
			}
			if err == nil {
				p.RCookie = m.RCookie
				err = p.adopt(payload[*ikev1.SA](m.Payloads))
			}
		case 1:
			if err = p.generateDH(); err == nil {
				p.ni = p.random(32)
				m, err = p.roundTrip(ikev1.ExchangeMain, []ikev1.Payload{ikev1.NewKE(p.gxi), ikev1.NewNonce(p.ni)}, false)
			}
			if err == nil {
				err = p.takeKE(m)
			}
		case 2:
			if m, err = p.roundTrip(ikev1.ExchangeMain, p.proof(), true); err == nil {
				err = p.checkProof(m)
				p.Established = err == nil
			}
		default:
			err = fmt.Errorf("ikev1test: main mode has no message %d", upTo)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// AggressiveMode runs aggressive mode as initiator (RFC 2409, Section 5) up to message
// upTo: 1 leaves the victim waiting for message 3, 3 completes phase 1.
func (p *Peer) AggressiveMode(upTo int) error {
	for p.sent < (upTo+1)/2 {
		var err error
		switch p.sent {
		case 0:
			err = p.aggressive1()
		case 1:
			_, err = p.sendPhase1(ikev1.ExchangeAggressive, p.proof()[1:], !p.ClearAggressive3)
			p.Established = err == nil
		default:
			err = fmt.Errorf("ikev1test: aggressive mode has no message %d", upTo)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// aggressive1 sends aggressive mode message 1 and checks the victim's message 2.
func (p *Peer) aggressive1() error {
	offer, err := p.begin(true)
	if err == nil {
		err = p.adopt(offer)
	}
	if err == nil {
		err = p.generateDH()
	}
	if err != nil {
		return err
	}
	p.ni = p.random(32)
	ps := append([]ikev1.Payload{offer, ikev1.NewKE(p.gxi), ikev1.NewNonce(p.ni), ikev1.IdentityID(p.ID)}, p.vendors()...)
	m, err := p.roundTrip(ikev1.ExchangeAggressive, ps, false)
	if err != nil {
		return err
	}
	p.RCookie = m.RCookie
	if err = p.adopt(payload[*ikev1.SA](m.Payloads)); err != nil {
		return err
	}
	if err = p.takeKE(m); err != nil {
		return err
	}
	return p.checkProof(m)
}

// RespondMainMode answers the victim's main mode as responder (a rogue responder, or
// simply the peer the victim initiates to), from where it stopped up to message upTo
// (2, 4 or 6). Each of the victim's messages must wait in the inbox. The responder takes
// the first transform offered.
func (p *Peer) RespondMainMode(upTo int) error {
	for p.sent < upTo/2 {
		r, err := p.Expect(ikev1.ExchangeMain)
		if err != nil {
			return err
		}
		m := r.Msg
		switch p.sent {
		case 0:
			offer := payload[*ikev1.SA](m.Payloads)
			if offer == nil || len(offer.Proposals) == 0 || len(offer.Proposals[0].Transforms) == 0 {
				return errors.New("ikev1test: main mode message 1 has no transform")
			}
			if p.saiB, err = ikev1.PayloadBody(offer); err != nil {
				return err
			}
			if err = p.adopt(offer); err != nil {
				return err
			}
			p.ICookie, p.RCookie = m.ICookie, binary.BigEndian.Uint64(p.random(8))
			chosen := &ikev1.SA{DOI: offer.DOI, Situation: offer.Situation, Proposals: []*ikev1.Proposal{{Number: offer.Proposals[0].Number,
				Protocol: ikev1.ProtoISAKMP, Transforms: offer.Proposals[0].Transforms[:1]}}}
			_, err = p.sendPhase1(ikev1.ExchangeMain, append([]ikev1.Payload{chosen}, p.vendors()...), false)
		case 1:
			ke, ni := payload[*ikev1.KE](m.Payloads), payload[*ikev1.Nonce](m.Payloads)
			if ke == nil || ni == nil {
				return errors.New("ikev1test: main mode message 3 lacks KE or Ni")
			}
			p.gxi, p.ni = ke.Data, ni.Data
			if err = p.generateDH(); err != nil {
				return err
			}
			p.nr = p.random(32)
			if err = p.deriveKeys(p.gxi); err != nil {
				return err
			}
			_, err = p.sendPhase1(ikev1.ExchangeMain, []ikev1.Payload{ikev1.NewKE(p.gxr), ikev1.NewNonce(p.nr)}, false)
		case 2:
			if err = p.checkProof(m); err != nil {
				return err
			}
			if _, err = p.sendPhase1(ikev1.ExchangeMain, p.proof(), true); err == nil {
				p.Established = true
			}
		default:
			return fmt.Errorf("ikev1test: main mode has no message %d", upTo)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RespondAggressiveMode answers the victim's first aggressive mode message, which must
// wait in the inbox, with message 2: the first transform offered, KE, Nr, the peer's ID
// and HASH_R. The victim's message 3 then waits in the inbox.
func (p *Peer) RespondAggressiveMode() error {
	r, err := p.Expect(ikev1.ExchangeAggressive)
	if err != nil {
		return err
	}
	m := r.Msg
	offer, ke, ni := payload[*ikev1.SA](m.Payloads), payload[*ikev1.KE](m.Payloads), payload[*ikev1.Nonce](m.Payloads)
	if offer == nil || ke == nil || ni == nil || len(offer.Proposals) == 0 || len(offer.Proposals[0].Transforms) == 0 {
		return errors.New("ikev1test: aggressive mode message 1 lacks SA, KE or Ni")
	}
	p.Aggressive = true
	if p.saiB, err = ikev1.PayloadBody(offer); err != nil {
		return err
	}
	if err = p.adopt(offer); err != nil {
		return err
	}
	p.ICookie, p.RCookie = m.ICookie, binary.BigEndian.Uint64(p.random(8))
	p.gxi, p.ni = ke.Data, ni.Data
	if err = p.generateDH(); err != nil {
		return err
	}
	p.nr = p.random(32)
	if err = p.deriveKeys(p.gxi); err != nil {
		return err
	}
	chosen := &ikev1.SA{DOI: offer.DOI, Situation: offer.Situation, Proposals: []*ikev1.Proposal{{Number: offer.Proposals[0].Number,
		Protocol: ikev1.ProtoISAKMP, Transforms: offer.Proposals[0].Transforms[:1]}}}
	ps := append([]ikev1.Payload{chosen, ikev1.NewKE(p.gxr), ikev1.NewNonce(p.nr)}, p.proof()...)
	_, err = p.sendPhase1(ikev1.ExchangeAggressive, append(ps, p.vendors()...), false)
	return err
}

// RespondQuickMode answers the victim's first quick mode message qm1 (read from the
// inbox) as responder (RFC 2409, Section 5.5): its first transform with inbound SPI spi,
// Nr and the proxy IDs, under HASH(2); then it reads the victim's message 3 and checks
// HASH(3).
func (p *Peer) RespondQuickMode(qm1 *Received, spi uint32) error {
	m := qm1.Msg
	offer, ni := payload[*ikev1.SA](m.Payloads), payload[*ikev1.Nonce](m.Payloads)
	if offer == nil || ni == nil || len(offer.Proposals) == 0 || len(offer.Proposals[0].Transforms) == 0 {
		return errors.New("ikev1test: quick mode message 1 lacks SA or Ni")
	}
	prop := offer.Proposals[0]
	nr := p.random(32)
	ps := []ikev1.Payload{&ikev1.SA{DOI: offer.DOI, Situation: offer.Situation, Proposals: []*ikev1.Proposal{{Number: prop.Number,
		Protocol: prop.Protocol, SPI: binary.BigEndian.AppendUint32(nil, spi), Transforms: prop.Transforms[:1]}}}, ikev1.NewNonce(nr)}
	for _, pl := range m.Payloads {
		if id, ok := pl.(*ikev1.ID); ok {
			ps = append(ps, id)
		}
	}
	after, err := ikev1.ChainBytes(ps)
	if err != nil {
		return err
	}
	id := m.MessageID
	if _, err := p.Send(Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Payloads: ps, Hash: p.Hash2(id, ni.Data, after)}); err != nil {
		return err
	}
	r, err := p.Expect(ikev1.ExchangeQuick)
	if err != nil {
		return err
	}
	if h := payload[*ikev1.Hash](r.Msg.Payloads); h == nil || !hmac.Equal(h.Data, p.Hash3(id, ni.Data, nr)) {
		return errors.New("ikev1test: quick mode message 3 lacks a HASH(3) that verifies")
	}
	return nil
}

// Out is a message that Send protects with the peer's ISAKMP SA.
type Out struct {
	Exchange  ikev1.ExchangeType
	MessageID uint32
	// Payloads are what follows the HASH payload. Chain, when not nil, stands for them
	// as bytes (generic headers included), the first of type First: for payload chains
	// the codec would not write.
	Payloads []ikev1.Payload
	Chain    []byte
	First    ikev1.PayloadType
	// Hash is the HASH payload's data; nil computes HASH(1) = prf(SKEYID_a, M-ID |
	// payloads) (RFC 2409, Sections 5.5 and 5.7), the HASH of informational, transaction
	// and first quick mode messages. BadHash sends that HASH with its last bit flipped
	// and NoHash no HASH payload at all.
	Hash    []byte
	BadHash bool
	NoHash  bool
	// Clear sends the message unencrypted.
	Clear bool
	// From is a spoofed source address; the zero value is the peer's own.
	From netip.AddrPort
}

// Send builds, protects and sends a message; it returns the bytes sent. An encrypted
// message uses the IV of its exchange; the peer's IV chain moves on unless the message
// was sent with BadHash or NoHash, which the victim must refuse (and so not let move its
// chain either).
func (p *Peer) Send(o Out) ([]byte, error) {
	var chain []byte
	first := o.First
	if o.Chain != nil {
		chain = o.Chain
	} else {
		var err error
		if chain, err = ikev1.ChainBytes(o.Payloads); err != nil {
			return nil, err
		}
		if len(o.Payloads) > 0 {
			first = o.Payloads[0].PayloadType()
		}
	}
	m := &ikev1.Message{Header: p.header(o.Exchange, o.MessageID)}
	if !o.NoHash && o.Hash == nil && p.Keys.SKEYID_a == nil {
		return nil, errors.New("ikev1test: no SKEYID_a to compute HASH(1) with: run phase 1 first, or send NoHash")
	}
	if !o.NoHash {
		h := o.Hash
		if h == nil {
			h = p.Hash1(o.MessageID, chain)
		}
		if o.BadHash {
			h = slices.Clone(h)
			h[len(h)-1] ^= 1
		}
		hb, err := ikev1.ChainBytes([]ikev1.Payload{ikev1.NewHash(h)})
		if err != nil {
			return nil, err
		}
		if len(chain) > 0 {
			hb[0] = byte(first)
		}
		chain, first = append(hb, chain...), ikev1.PayloadHash
	}
	m.NextPayload, m.Chain = first, chain
	if m.Chain == nil {
		m.Chain = []byte{}
	}
	var c *ikev1.Crypto
	if !o.Clear {
		if p.IVs == nil {
			return nil, errors.New("ikev1test: no keys to encrypt with: run phase 1 first")
		}
		m.Flags = ikev1.FlagEncryption
		c = p.IVs.Crypto(p.Suite.Encr, p.EncKey, o.MessageID)
	}
	raw, err := m.Marshal(c)
	if err != nil {
		return nil, err
	}
	if !o.Clear && !o.BadHash && !o.NoHash {
		p.IVs.Advance(o.MessageID, raw)
	}
	from := o.From
	if !from.IsValid() {
		from = p.Addr
	}
	p.RawFrom(from, raw)
	return raw, nil
}

// Hash1 is HASH(1) = prf(SKEYID_a, M-ID | after) over the payload bytes after the HASH.
func (p *Peer) Hash1(id uint32, after []byte) []byte {
	return ikev1.QuickHash1(p.Suite.Hash.PRF, p.Keys.SKEYID_a, id, after)
}

// Hash2 is quick mode's HASH(2) = prf(SKEYID_a, M-ID | Ni_b | after).
func (p *Peer) Hash2(id uint32, ni, after []byte) []byte {
	return ikev1.QuickHash2(p.Suite.Hash.PRF, p.Keys.SKEYID_a, id, ni, after)
}

// Hash3 is quick mode's HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
func (p *Peer) Hash3(id uint32, ni, nr []byte) []byte {
	return ikev1.QuickHash3(p.Suite.Hash.PRF, p.Keys.SKEYID_a, id, ni, nr)
}

// QuickOffer is the first quick mode message's payloads after HASH(1) for one ESP
// proposal (RFC 2409, Section 5.5): SA with inbound SPI spi, Ni, and the proxy IDs of
// the initiator (local) and the responder (remote). PFS is not offered.
func (p *Peer) QuickOffer(esp ike.Proposal, spi uint32, local, remote ike.TrafficSelector) ([]ikev1.Payload, []byte, error) {
	offer, err := ikev1.ESPOffer([]ike.Proposal{esp}, spi, ikev1.EncapTunnel, time.Hour, 0)
	if err != nil {
		return nil, nil, err
	}
	ni := p.random(32)
	return []ikev1.Payload{offer, ikev1.NewNonce(ni), ikev1.SelectorID(local), ikev1.SelectorID(remote)}, ni, nil
}

// QuickMode runs a whole quick mode as initiator in exchange id: message 1, the victim's
// message 2 with HASH(2) checked, and message 3. It returns the victim's message 2.
func (p *Peer) QuickMode(id uint32, esp ike.Proposal, spi uint32, local, remote ike.TrafficSelector) (*Received, error) {
	ps, ni, err := p.QuickOffer(esp, spi, local, remote)
	if err != nil {
		return nil, err
	}
	if _, err := p.Send(Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Payloads: ps}); err != nil {
		return nil, err
	}
	r, err := p.Expect(ikev1.ExchangeQuick)
	if err != nil {
		return r, err
	}
	h, nr := payload[*ikev1.Hash](r.Msg.Payloads), payload[*ikev1.Nonce](r.Msg.Payloads)
	if h == nil || nr == nil || !hmac.Equal(h.Data, p.Hash2(id, ni, r.Msg.After(0))) {
		return r, errors.New("ikev1test: quick mode message 2 lacks Nr or its HASH(2) does not verify")
	}
	_, err = p.Send(Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Hash: p.Hash3(id, ni, nr.Data)})
	return r, err
}
