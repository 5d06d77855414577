package ikev2test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
	"github.com/ikesim/ikesim/ike/ikev2"
)

// Peer is an IKEv2 attacker on a Net. It plays by the rules only as far as a test asks:
// Init and AuthPSK bring an IKE SA up with a victim the normal way, Serve answers a
// victim's IKE_SA_INIT as a rogue responder, and from then on the peer holds the IKE
// SA's keys and sends whatever it is told, protected (Protect, Request, Respond) or not
// (Forge), from its own address or a spoofed one (SendFrom), again and in any order.
// Everything the victim sends to the peer's address waits in its inbox (Take).
type Peer struct {
	Net    *Net
	Addr   netip.AddrPort // where the peer sends from and receives at
	Victim netip.AddrPort // the daemon under test
	// Proposal is the IKE proposal the peer offers as initiator and accepts as
	// responder.
	Proposal ike.Proposal
	Rand     io.Reader

	// The IKE SA as the peer holds it: its role, SPIs, nonces, the IKE_SA_INIT
	// messages as sent (RealMessage1 and 2) and the keys (RFC 7296, Section 2.14).
	Initiator                 bool // the peer is the original initiator
	SPIi, SPIr                uint64
	Ni, Nr                    []byte
	InitRequest, InitResponse []byte
	Keys                      ike.IKEKeys
	PRF                       *ike.PRFAlg
	// NextID is the message ID of the peer's next request.
	NextID uint32

	encr     *ike.EncrAlg
	encrBits int
	integ    *ike.IntegAlg

	inbox []ike.Datagram
	taken int
	sent  [][]byte
}

// NewPeer puts a peer at addr ("192.0.2.66:500") on the Net, facing the victim at
// victim, with an IKE proposal in strongSwan's notation ("aes128-sha256-x25519").
func NewPeer(n *Net, addr, victim, proposal string) (*Peer, error) {
	a, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("ikev2test: %v", err)
	}
	v, err := netip.ParseAddrPort(victim)
	if err != nil {
		return nil, fmt.Errorf("ikev2test: %v", err)
	}
	prop, err := ike.ParseProposal(proposal, ike.ProtoIKE)
	if err != nil {
		return nil, err
	}
	p := &Peer{Net: n, Addr: a, Victim: v, Proposal: prop, Rand: n.Rand(a.Addr())}
	n.Attach(a.Addr(), p)
	return p, nil
}

// HandleDatagram keeps what the Net delivers to the peer.
func (p *Peer) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	p.inbox = append(p.inbox, ike.Datagram{Local: local, Remote: remote, Data: append([]byte(nil), data...)})
}

// Received is a datagram the victim sent to the peer, parsed and, where the peer's
// keys open it, decrypted (Msg.Inner()); Err says why not.
type Received struct {
	Datagram ike.Datagram
	Msg      *ikev2.Message
	Err      error
}

// Take returns what arrived since the last Take.
func (p *Peer) Take() []Received {
	var out []Received
	for _, dg := range p.inbox[p.taken:] {
		m, err := p.Open(dg.Data)
		out = append(out, Received{Datagram: dg, Msg: m, Err: err})
	}
	p.taken = len(p.inbox)
	return out
}

// Open parses a message and decrypts its SK payload with the keys of the victim's side.
func (p *Peer) Open(raw []byte) (*ikev2.Message, error) {
	m, err := ikev2.Parse(raw)
	if err != nil {
		return nil, err
	}
	if m.Encrypted() == nil {
		return m, nil
	}
	sk := p.sk(!p.Initiator)
	if sk == nil {
		return m, errors.New("ikev2test: no keys yet")
	}
	return m, m.Decrypt(nil, sk)
}

// Sent lists what the peer sent, in order: material to replay.
func (p *Peer) Sent() [][]byte { return p.sent }

// Send sends raw from the peer's address to the victim.
func (p *Peer) Send(raw []byte) { p.SendFrom(p.Addr, raw) }

// SendFrom sends raw to the victim from any address: the victim's answer goes there.
func (p *Peer) SendFrom(from netip.AddrPort, raw []byte) {
	p.sent = append(p.sent, raw)
	p.Net.Send(ike.Datagram{Local: from, Remote: p.Victim, Data: raw})
}

// Replay sends messages again, in the order given: old ones, or the same ones reordered.
func (p *Peer) Replay(raws ...[]byte) {
	for _, r := range raws {
		p.Send(r)
	}
}

// Roundtrip sends raw, lets the Net run long enough for an answer, and returns what
// arrived.
func (p *Peer) Roundtrip(raw []byte) []Received {
	p.Send(raw)
	p.Net.Run(3 * p.Net.Delay)
	return p.Take()
}

// Header is the IKE header of a message of this IKE SA from the peer.
func (p *Peer) Header(ex ikev2.ExchangeType, id uint32, response bool) ikev2.Header {
	h := ikev2.Header{SPIi: p.SPIi, SPIr: p.SPIr, Exchange: ex, MessageID: id}
	if p.Initiator {
		h.Flags |= ikev2.FlagInitiator
	}
	if response {
		h.Flags |= ikev2.FlagResponse
	}
	return h
}

// Forge builds an unprotected message with any header.
func (p *Peer) Forge(h ikev2.Header, payloads ...ikev2.Payload) []byte {
	m := &ikev2.Message{Header: h, Payloads: payloads}
	raw, err := m.Marshal(nil, nil)
	if err != nil {
		panic(fmt.Sprintf("ikev2test: forging %s: %v", h.Exchange, err))
	}
	return raw
}

// Protect builds a message whose payloads travel in an SK payload protected with the
// IKE SA's keys, as the victim expects them from the peer.
func (p *Peer) Protect(h ikev2.Header, payloads ...ikev2.Payload) []byte {
	return p.seal(h, &ikev2.Encrypted{Inner: append([]ikev2.Payload{}, payloads...)})
}

// ProtectChain is Protect for an inner payload chain given as bytes, first naming the
// type of its first payload: it protects correctly what the codec would never build.
func (p *Peer) ProtectChain(h ikev2.Header, first ikev2.PayloadType, chain []byte) []byte {
	return p.seal(h, &ikev2.Encrypted{FirstPayload: first, RawChain: append([]byte{}, chain...)})
}

func (p *Peer) seal(h ikev2.Header, sk *ikev2.Encrypted) []byte {
	keys := p.sk(p.Initiator)
	if keys == nil {
		panic("ikev2test: Protect before the peer holds keys (Init or Serve first)")
	}
	m := &ikev2.Message{Header: h, Payloads: []ikev2.Payload{sk}}
	raw, err := m.Marshal(keys, p.Rand)
	if err != nil {
		panic(fmt.Sprintf("ikev2test: protecting %s: %v", h.Exchange, err))
	}
	return raw
}

// Request sends a protected request with the next message ID.
func (p *Peer) Request(ex ikev2.ExchangeType, payloads ...ikev2.Payload) []byte {
	raw := p.Protect(p.Header(ex, p.NextID, false), payloads...)
	p.NextID++
	p.Send(raw)
	return raw
}

// Respond sends a protected response to the victim's request id.
func (p *Peer) Respond(ex ikev2.ExchangeType, id uint32, payloads ...ikev2.Payload) []byte {
	raw := p.Protect(p.Header(ex, id, true), payloads...)
	p.Send(raw)
	return raw
}

// Await lets the Net run, a datagram's delay at a time for up to within, until a
// message from the victim matches; it returns the first that does, decrypted where it
// can be, or nil.
func (p *Peer) Await(within time.Duration, match func(*ikev2.Message) bool) *ikev2.Message {
	for end := p.Net.Now().Add(within); ; {
		for _, r := range p.Take() {
			if r.Msg != nil && match(r.Msg) {
				return r.Msg
			}
		}
		if !p.Net.Now().Before(end) {
			return nil
		}
		p.Net.Run(p.Net.Delay)
	}
}

// awaitTime is how long Init, AuthPSK and Serve wait for the victim.
const awaitTime = time.Second

// Init runs IKE_SA_INIT as initiator with the peer's proposal and extra payloads after
// SA, KE and Ni; it answers a COOKIE once, as RFC 7296, Section 2.6 asks. It draws
// SPIi unless the test has set it. On success the peer holds the IKE SA's keys and its
// next request is IKE_AUTH.
func (p *Peer) Init(extra ...ikev2.Payload) (*ikev2.Message, error) {
	grp := ike.DH(transform(p.Proposal, ike.TransformDH))
	if grp == nil {
		return nil, fmt.Errorf("ikev2test: proposal %s has no Diffie-Hellman group", p.Proposal)
	}
	priv, err := grp.Generate(p.Rand)
	if err != nil {
		return nil, err
	}
	if p.SPIi == 0 {
		p.SPIi = p.spi64()
	}
	p.Initiator, p.SPIr, p.Ni = true, 0, p.random(32)
	var cookie []ikev2.Payload
	for try := 0; try < 2; try++ {
		ps := append(append([]ikev2.Payload{}, cookie...), ikev2.NewSA(nil, p.Proposal),
			&ikev2.KE{Group: grp.ID, Data: priv.Public()}, &ikev2.Nonce{Data: p.Ni})
		p.InitRequest = p.Forge(ikev2.Header{SPIi: p.SPIi, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagInitiator},
			append(ps, extra...)...)
		p.Send(p.InitRequest)
		resp := p.Await(awaitTime, func(m *ikev2.Message) bool {
			return m.Exchange == ikev2.IKE_SA_INIT && m.IsResponse() && m.SPIi == p.SPIi
		})
		if resp == nil {
			return nil, errors.New("ikev2test: no IKE_SA_INIT response")
		}
		if n := notify(resp.Payloads, ikev2.COOKIE); n != nil {
			cookie = []ikev2.Payload{&ikev2.Notify{Type: ikev2.COOKIE, Data: n.Data}}
			continue
		}
		sap, ke, nr := payload[*ikev2.SA](resp.Payloads), payload[*ikev2.KE](resp.Payloads), payload[*ikev2.Nonce](resp.Payloads)
		if sap == nil || ke == nil || nr == nil || len(sap.Proposals) != 1 {
			return resp, fmt.Errorf("ikev2test: IKE_SA_INIT response %s lacks SA, KE or Nr", ikev2.Summary(resp, false))
		}
		if err := p.setSuite(sap.Proposals[0].IKE()); err != nil {
			return resp, err
		}
		p.SPIr, p.Nr, p.InitResponse = resp.SPIr, nr.Data, resp.Raw
		return resp, p.derive(priv, ke.Data, 1)
	}
	return nil, errors.New("ikev2test: the victim keeps asking for a COOKIE")
}

// AuthPSK sends the IKE_AUTH request of an initiator that proves the pre-shared key psk
// as identity id, with payloads after IDi and AUTH (IDr, SAi2, TSi, TSr as the test
// wants), and returns the victim's response, decrypted.
func (p *Peer) AuthPSK(id ike.Identity, psk []byte, payloads ...ikev2.Payload) (*ikev2.Message, error) {
	octets := ikev2.SignedOctets(p.PRF, p.InitRequest, p.Nr, p.Keys.SKpi, id)
	ps := []ikev2.Payload{&ikev2.ID{Type: ikev2.IDType(id.Type), Data: id.Value},
		&ikev2.Auth{Method: ikev2.AuthSharedKeyMIC, Data: ikev2.PSKAuth(p.PRF, psk, octets)}}
	mid := p.NextID
	p.Request(ikev2.IKE_AUTH, append(ps, payloads...)...)
	resp := p.Await(awaitTime, func(m *ikev2.Message) bool {
		return m.Exchange == ikev2.IKE_AUTH && m.IsResponse() && m.MessageID == mid
	})
	if resp == nil {
		return nil, errors.New("ikev2test: no IKE_AUTH response")
	}
	return resp, nil
}

// Serve waits for the victim's IKE_SA_INIT request and answers it as a rogue
// responder: it accepts the victim's offer of the peer's proposal and adds extra after
// SA, KE and Nr. The peer then holds the IKE SA's keys.
func (p *Peer) Serve(extra ...ikev2.Payload) (*ikev2.Message, error) {
	req := p.Await(awaitTime, func(m *ikev2.Message) bool {
		return m.Exchange == ikev2.IKE_SA_INIT && !m.IsResponse() && m.SPIr == 0
	})
	if req == nil {
		return nil, errors.New("ikev2test: no IKE_SA_INIT request")
	}
	sap, ke, ni := payload[*ikev2.SA](req.Payloads), payload[*ikev2.KE](req.Payloads), payload[*ikev2.Nonce](req.Payloads)
	if sap == nil || ke == nil || ni == nil {
		return req, errors.New("ikev2test: IKE_SA_INIT request lacks SA, KE or Ni")
	}
	chosen, idx, ok := ike.SelectProposal(sap.IKEProposals(), []ike.Proposal{p.Proposal})
	if !ok || transform(chosen, ike.TransformDH) != ke.Group {
		return req, fmt.Errorf("ikev2test: the victim's offer %v and KE group %d do not fit %s", sap.IKEProposals(), ke.Group, p.Proposal)
	}
	if err := p.setSuite(chosen); err != nil {
		return req, err
	}
	priv, err := ike.DH(ke.Group).Generate(p.Rand)
	if err != nil {
		return req, err
	}
	p.Initiator, p.SPIi, p.SPIr, p.Ni, p.Nr = false, req.SPIi, p.spi64(), ni.Data, p.random(32)
	p.InitRequest = req.Raw
	p.InitResponse = p.Forge(ikev2.Header{SPIi: p.SPIi, SPIr: p.SPIr, Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagResponse},
		append([]ikev2.Payload{&ikev2.SA{Proposals: []*ikev2.Proposal{ikev2.NewProposal(sap.Proposals[idx].Number, nil, chosen)}},
			&ikev2.KE{Group: ke.Group, Data: priv.Public()}, &ikev2.Nonce{Data: p.Nr}}, extra...)...)
	if err := p.derive(priv, ke.Data, 0); err != nil {
		return req, err
	}
	p.Send(p.InitResponse)
	return req, nil
}

// derive computes SKEYSEED and the keys from the Diffie-Hellman exchange.
func (p *Peer) derive(priv ike.DHPrivate, peerKE []byte, next uint32) error {
	gir, err := priv.Shared(peerKE)
	if err != nil {
		return fmt.Errorf("ikev2test: Diffie-Hellman: %v", err)
	}
	skeyseed := ike.SKEYSEED(p.PRF, p.Ni, p.Nr, gir)
	p.Keys = ike.DeriveIKEKeys(p.PRF, skeyseed, p.Ni, p.Nr, p.SPIi, p.SPIr, p.encr, p.encrBits, p.integ)
	p.NextID = next
	return nil
}

func (p *Peer) setSuite(prop ike.Proposal) error {
	c, err := suite(prop)
	if err != nil {
		return err
	}
	p.encr, p.encrBits, p.integ, p.PRF = c.Encr, c.EncrKeyBits, c.Integ, ike.PRF(transform(prop, ike.TransformPRF))
	if p.PRF == nil {
		return fmt.Errorf("ikev2test: proposal %s has no usable PRF", prop)
	}
	return nil
}

// suite is the SK payload protection an IKE proposal selects, without keys.
func suite(prop ike.Proposal) (*ikev2.SKCrypto, error) {
	c := &ikev2.SKCrypto{Encr: ike.Encr(transform(prop, ike.TransformENCR)), Integ: ike.Integ(transform(prop, ike.TransformINTEG))}
	for _, t := range prop.Transforms {
		if t.Type == ike.TransformENCR {
			c.EncrKeyBits = t.KeyLen
		}
	}
	if c.Encr == nil || (c.Integ == nil && !c.Encr.AEAD()) {
		return nil, fmt.Errorf("ikev2test: proposal %s lacks a usable ENCR or INTEG transform", prop)
	}
	if c.EncrKeyBits == 0 && len(c.Encr.KeyBits) > 0 {
		c.EncrKeyBits = c.Encr.KeyBits[0]
	}
	return c, nil
}

// withKeys is c with the keys of messages from the original initiator
// (fromInitiator) or from the original responder.
func withKeys(c *ikev2.SKCrypto, keys ike.IKEKeys, fromInitiator bool) *ikev2.SKCrypto {
	out := *c
	if fromInitiator {
		out.EncrKey, out.IntegKey = keys.SKei, keys.SKai
	} else {
		out.EncrKey, out.IntegKey = keys.SKer, keys.SKar
	}
	return &out
}

// SK is the SK payload protection of an IKE SA as an engine reported it
// (Observer.IKESAUp): of the messages from its original initiator, or from its
// original responder. It lets a test read what two daemons send each other.
func SK(info *ike.IKESAInfo, fromInitiator bool) (*ikev2.SKCrypto, error) {
	c, err := suite(info.Proposal)
	if err != nil {
		return nil, err
	}
	return withKeys(c, ike.IKEKeys{SKei: info.SKei, SKai: info.SKai, SKer: info.SKer, SKar: info.SKar}, fromInitiator), nil
}

// sk is the protection of messages from the original initiator (fromInitiator) or
// from the original responder; nil before the keys exist.
func (p *Peer) sk(fromInitiator bool) *ikev2.SKCrypto {
	if p.Keys.SKei == nil {
		return nil
	}
	return withKeys(&ikev2.SKCrypto{Encr: p.encr, EncrKeyBits: p.encrBits, Integ: p.integ}, p.Keys, fromInitiator)
}

func (p *Peer) random(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(p.Rand, b)
	return b
}

func (p *Peer) spi64() uint64 {
	for {
		if v := binary.BigEndian.Uint64(p.random(8)); v != 0 {
			return v
		}
	}
}

// transform is the ID of the proposal's first transform of type t, 0 if none.
func transform(p ike.Proposal, t ike.TransformType) uint16 {
	for _, x := range p.Transforms {
		if x.Type == t {
			return x.ID
		}
	}
	return 0
}

func payload[T ikev2.Payload](ps []ikev2.Payload) T { return daemon.First[T](ps, nil) }

func notify(ps []ikev2.Payload, t ikev2.NotifyType) *ikev2.Notify {
	return daemon.First(ps, func(n *ikev2.Notify) bool { return n.Type == t })
}
