package ikev1_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev1/ikev1test"
)

// Situations of FuzzPostHandshake: where the ISAKMP SA stands and which message the
// fuzzed payloads ride in, each protected so that it passes decryption and the HASH.
const (
	fuzzQuick1      = iota // a new quick mode (HASH(1)) to an XAUTH gateway after login
	fuzzInfo               // a new informational (HASH(1))
	fuzzTransaction        // a new transaction (HASH(1)) after login
	fuzzXAuthReply         // the transaction that answers the gateway's XAUTH request
	fuzzQuick2             // the answer to the victim's quick mode message 1 (HASH(2))
	fuzzQuick3             // quick mode message 3 (HASH(3)) after the victim's message 2, payloads added
	fuzzDPDAck             // the answer to the victim's R-U-THERE, in its own informational
	fuzzClientCfg          // a gateway's transaction to an XAUTH and Mode Config client
	fuzzSituations
)

// fuzzSetup brings the victim to a situation and returns the peer, the message ID to use
// and, for quick mode answers, the nonces of the exchange.
func fuzzSetup(t *testing.T, situation int) (*ikev1test.Net, *ikev1test.Peer, uint32, []byte, []byte) {
	if situation == fuzzClientCfg {
		n, p := fuzzVictim(t, func(c *ike.Connection) {
			c.XAuth = &ike.XAuthConfig{User: "alice", Password: "wonderland"}
			c.RequestVIP = true
			c.Children[0].LocalTS = nil
		})
		p.Vendors = [][]byte{ikev1.VendorXAUTH}
		if err := n.Victim.D.Initiate("site", ""); err != nil {
			t.Fatal(err)
		}
		if err := p.RespondMainMode(6); err != nil {
			t.Fatal(err)
		}
		p.Drain()
		return n, p, p.MessageID(), nil, nil
	}
	n, p := fuzzVictim(t, xauthGateway)
	req := xauthPhase1(t, p)
	if situation == fuzzXAuthReply {
		return n, p, req.Msg.MessageID, nil, nil
	}
	xauthLogin(t, p, req)
	p.Drain()
	switch situation {
	case fuzzQuick2:
		if err := n.Victim.D.Initiate("site", "net"); err != nil {
			t.Fatal(err)
		}
		qm1, err := p.Expect(ikev1.ExchangeQuick)
		if err != nil {
			t.Fatal(err)
		}
		return n, p, qm1.Msg.MessageID, nonce(qm1.Msg), nil
	case fuzzQuick3:
		id := p.MessageID()
		ps, ni, err := p.QuickOffer(espProposal, 0x3333, vipTS, victimNet)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: id, Payloads: ps}); err != nil {
			t.Fatal(err)
		}
		qm2, err := p.Expect(ikev1.ExchangeQuick)
		if err != nil {
			t.Fatal(err)
		}
		return n, p, id, ni, nonce(qm2.Msg)
	case fuzzDPDAck:
		if err := n.Victim.D.Liveness("site"); err != nil {
			t.Fatal(err)
		}
		p.Drain()
	}
	return n, p, p.MessageID(), nil, nil
}

// fuzzVictim is victim with the cheaper ecp256, for the fuzzer's throughput.
func fuzzVictim(t *testing.T, tweak func(*ike.Connection)) (*ikev1test.Net, *ikev1test.Peer) {
	return victimWith(t, "aes128-sha256-ecp256", tweak)
}

func nonce(m *ikev1.Message) []byte {
	for _, p := range m.Payloads {
		if n, ok := p.(*ikev1.Nonce); ok {
			return n.Data
		}
	}
	return nil
}

type fuzzSeed struct {
	situation int
	first     byte
	chain     []byte
}

// postHandshakeSeeds are real payload chains of each situation.
func postHandshakeSeeds(t testing.TB) []fuzzSeed {
	var seeds []fuzzSeed
	seed := func(situation int, ps ...ikev1.Payload) {
		chain, err := ikev1.ChainBytes(ps)
		if err != nil {
			t.Fatal(err)
		}
		first := byte(0)
		if len(ps) > 0 {
			first = byte(ps[0].PayloadType())
		}
		seeds = append(seeds, fuzzSeed{situation, first, chain})
	}
	offer, err := ikev1.ESPOffer([]ike.Proposal{espProposal}, 0x3333, ikev1.EncapTunnel, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	answer := *offer
	answer.Proposals = []*ikev1.Proposal{{Number: 1, Protocol: ikev1.ProtoIPsecESP, SPI: []byte{0, 0, 0x44, 0x44},
		Transforms: offer.Proposals[0].Transforms[:1]}}
	cookies := make([]byte, 16)
	user := ikev1.Attribute{Type: ikev1.XAuthUserName, Value: []byte("alice")}
	pass := ikev1.Attribute{Type: ikev1.XAuthUserPassword, Value: []byte("wonderland")}
	seed(fuzzQuick1, offer, ikev1.NewNonce(make([]byte, 32)), ikev1.SelectorID(vipTS), ikev1.SelectorID(victimNet))
	seed(fuzzInfo, &ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: cookies, Type: ikev1.R_U_THERE, Data: []byte{0, 0, 0, 1}})
	seed(fuzzInfo, &ikev1.Delete{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoIPsecESP, SPISize: 4, SPIs: [][]byte{{1, 2, 3, 4}}})
	seed(fuzzInfo, &ikev1.Delete{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{cookies}})
	seed(fuzzInfo, &ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoIPsecESP, SPI: []byte{1, 2, 3, 4}, Type: ikev1.NO_PROPOSAL_CHOSEN})
	seed(fuzzTransaction, &ikev1.Attributes{Type: ikev1.CfgRequest, Identifier: 1, Attributes: []ikev1.Attribute{
		{Type: ikev1.CfgInternalIP4Address}, {Type: ikev1.CfgInternalIP4DNS}}})
	seed(fuzzXAuthReply, &ikev1.Attributes{Type: ikev1.CfgReply, Identifier: 1, Attributes: []ikev1.Attribute{ikev1.TV(ikev1.XAuthType, 0), user, pass}})
	seed(fuzzQuick2, &answer, ikev1.NewNonce(make([]byte, 32)), ikev1.SelectorID(victimNet), ikev1.SelectorID(ike.TSFromPrefix(netip.MustParsePrefix("10.10.10.0/24"))))
	seed(fuzzQuick3)
	seed(fuzzQuick3, &ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoIPsecESP, SPI: []byte{0, 0, 0x33, 0x33}, Type: ikev1.RESPONDER_LIFETIME})
	seed(fuzzDPDAck, &ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: cookies, Type: ikev1.R_U_THERE_ACK, Data: []byte{0, 0, 0, 1}})
	seed(fuzzClientCfg, &ikev1.Attributes{Type: ikev1.CfgRequest, Identifier: 2, Attributes: []ikev1.Attribute{ikev1.TV(ikev1.XAuthType, 0),
		{Type: ikev1.XAuthUserName}, {Type: ikev1.XAuthUserPassword}}})
	return seeds
}

// postHandshake brings the victim to a situation and sends it a message of the
// situation's exchange whose payload chain (after the HASH) is chain, with type first.
// It returns the net and the position in the victim's log before the message.
func postHandshake(t *testing.T, situation int, first byte, chain []byte) (*ikev1test.Net, int) {
	s := situation % fuzzSituations
	n, p, id, ni, nr := fuzzSetup(t, s)
	out := ikev1test.Out{MessageID: id, Chain: chain, First: ikev1.PayloadType(first)}
	switch s {
	case fuzzQuick1, fuzzQuick2, fuzzQuick3:
		out.Exchange = ikev1.ExchangeQuick
	case fuzzInfo, fuzzDPDAck:
		out.Exchange = ikev1.ExchangeInformational
	default:
		out.Exchange = ikev1.ExchangeTransaction
	}
	switch s {
	case fuzzQuick2:
		out.Hash = p.Hash2(id, ni, chain)
	case fuzzQuick3:
		out.Hash = p.Hash3(id, ni, nr)
	}
	mark := n.Victim.Mark()
	if _, err := p.Send(out); err != nil {
		t.Fatal(err)
	}
	p.Drain()
	return n, mark
}

// TestPostHandshakeSeedsGetThrough: every seed of FuzzPostHandshake passes decryption
// and the HASH and reaches its handler, so that mutations of it explore the handlers and
// not the checks in front of them.
func TestPostHandshakeSeedsGetThrough(t *testing.T) {
	for i, sd := range postHandshakeSeeds(t) {
		n, mark := postHandshake(t, sd.situation, sd.first, sd.chain)
		if d := n.Victim.Since(mark, ikev1test.KindDropped); len(d) != 0 || len(n.Victim.Since(mark, ikev1test.KindReceived)) != 1 {
			t.Errorf("seed %d (situation %d) does not get through: %v", i, sd.situation, n.Victim.Since(mark))
		}
	}
}

// FuzzPostHandshake gets past phase 1, XAUTH and the HASH: it brings an IKEv1 engine to
// one of the situations above with a peer that holds the ISAKMP SA's keys, then sends a
// message whose plaintext payload chain is the fuzzer's, encrypted with the right IV and
// opened by the right HASH(1), HASH(2) or HASH(3). The quick mode, informational and
// transaction handlers must never panic, and the victim must keep at most its one
// ISAKMP SA, whatever the timers do after.
func FuzzPostHandshake(f *testing.F) {
	for _, sd := range postHandshakeSeeds(f) {
		f.Add(byte(sd.situation), sd.first, sd.chain)
	}
	f.Fuzz(func(t *testing.T, situation, first byte, chain []byte) {
		n, _ := postHandshake(t, int(situation), first, chain)
		n.Advance(2 * time.Minute)
		if got := len(n.Victim.D.SAs()); got > 1 {
			t.Errorf("the victim holds %d ISAKMP SAs", got)
		}
	})
}
