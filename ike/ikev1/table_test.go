package ikev1_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev1/ikev1test"
)

// The exchanges × states table of the IKEv1 responder. The victim is an XAUTH gateway
// (psk with XAUTH, Mode Config pool); the peer holds the right pre-shared key and
// credentials. Each row is one ISAKMP SA state, each column one exchange the peer sends
// in it, as well-formed as the peer can make it in that state (protected with the keys
// it holds, with the right HASH); each cell says what the victim must send back, or
// "silence", and the state its ISAKMP SA is in afterwards ("gone" when it has none).
//
// Where the states come from (RFC 2409, Section 5; draft-beaulieu-ike-xauth-02):
//
//	phase 1 in progress    main mode message 1 answered; no keys yet      IKE_R_MM2
//	waiting for message 5  messages 3 and 4 done; keys, no authentication IKE_R_MM4
//	XAUTH pending          phase 1 complete, the gateway asked for login  IKE_XAUTH_REQ_SENT
//	established            XAUTH succeeded: quick modes may run           IKE_P1_COMPLETE
//	deleted                this side sent Delete(ISAKMP): the SA is gone  —

type tableState struct {
	name  string
	setup func(t *testing.T, n *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received // the gateway's XAUTH request, when pending
}

type tableExchange struct {
	name string
	// send sends the exchange's message; xauth is the gateway's pending XAUTH request.
	send func(t *testing.T, p *ikev1test.Peer, xauth *ikev1test.Received)
}

type tableCell struct {
	reply string // the victim's answer as "exchange summary", or "silence"
	state string // its ISAKMP SA's state afterwards, or "gone"
	why   string // the rule
}

var vipTS = ike.TSFromPrefix(netip.MustParsePrefix("10.10.10.7/32"))

func tableStates() []tableState {
	return []tableState{
		{"phase 1 in progress", func(t *testing.T, _ *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received {
			if err := p.MainMode(1); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"waiting for message 5", func(t *testing.T, _ *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received {
			if err := p.MainMode(3); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"XAUTH pending", func(t *testing.T, _ *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received {
			return xauthPhase1(t, p)
		}},
		{"established", func(t *testing.T, _ *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received {
			xauthLogin(t, p, xauthPhase1(t, p))
			return nil
		}},
		{"deleted", func(t *testing.T, n *ikev1test.Net, p *ikev1test.Peer) *ikev1test.Received {
			xauthLogin(t, p, xauthPhase1(t, p))
			if err := n.Victim.D.Delete("site", ""); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	}
}

// protected sends o under the peer's keys, or, before it has any, a 44-byte message of
// the exchange that no one without the keys can make better.
func protected(t *testing.T, p *ikev1test.Peer, o ikev1test.Out) {
	t.Helper()
	if p.IVs == nil {
		p.Raw(garbage(p, o.Exchange, p.MessageID()))
		return
	}
	if _, err := p.Send(o); err != nil {
		t.Fatal(err)
	}
}

func tableExchanges() []tableExchange {
	return []tableExchange{
		{"Main Mode", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			if p.Pending() == 0 && p.IVs == nil {
				p.MainMode(3) // message 3, as the victim waits for it; its answer stays in the inbox
				return
			}
			// A message 3 again, in clear: KE and Ni.
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeMain, Clear: true, NoHash: true,
				Payloads: []ikev1.Payload{ikev1.NewKE(make([]byte, 256)), ikev1.NewNonce(make([]byte, 32))}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"Aggressive Mode", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeAggressive, Clear: true, NoHash: true,
				Payloads: []ikev1.Payload{ikev1.NewKE(make([]byte, 256)), ikev1.NewNonce(make([]byte, 32)), ikev1.IdentityID(p.ID)}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"Quick Mode", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			ps, _, err := p.QuickOffer(espProposal, 0x3333, vipTS, victimNet)
			if err != nil {
				t.Fatal(err)
			}
			protected(t, p, ikev1test.Out{Exchange: ikev1.ExchangeQuick, MessageID: p.MessageID(), Payloads: ps})
		}},
		{"Informational", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			protected(t, p, rUThere(p, 9))
		}},
		{"Informational in clear", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			if _, err := p.Send(ikev1test.Out{Exchange: ikev1.ExchangeInformational, MessageID: p.MessageID(), Clear: true, NoHash: true,
				Payloads: []ikev1.Payload{&ikev1.Notify{DOI: ikev1.DOIIPsec, Protocol: ikev1.ProtoISAKMP, SPI: p.Cookies(),
					Type: ikev1.INVALID_ID_INFORMATION}}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"Transaction", func(t *testing.T, p *ikev1test.Peer, xauth *ikev1test.Received) {
			if p.IVs == nil || !p.Established {
				protected(t, p, ikev1test.Out{Exchange: ikev1.ExchangeTransaction, MessageID: p.MessageID(),
					Payloads: []ikev1.Payload{&ikev1.Attributes{Type: ikev1.CfgReply, Attributes: []ikev1.Attribute{
						{Type: ikev1.XAuthUserName, Value: []byte("alice")}}}}})
				return
			}
			sendXAuthReply(t, p, xauth)
		}},
		{"New Group Mode", func(t *testing.T, p *ikev1test.Peer, _ *ikev1test.Received) {
			protected(t, p, ikev1test.Out{Exchange: ikev1.ExchangeNewGroup, MessageID: p.MessageID(),
				Payloads: []ikev1.Payload{&ikev1.SA{DOI: ikev1.DOIIPsec, Situation: ikev1.SitIdentityOnly}}})
		}},
	}
}

// The cells, by state then exchange.
var table = map[string]map[string]tableCell{
	"phase 1 in progress": {
		"Main Mode": {"Main Mode HDR, KE, Nr", "IKE_R_MM4",
			"RFC 2409, Section 5: message 3 (KE, Ni) is answered by message 4 (KE, Nr)"},
		"Aggressive Mode": {"silence", "IKE_R_MM2",
			"RFC 2408, Section 2.5.3: the cookies name a main mode exchange; strongSwan drops a message of another exchange type"},
		"Quick Mode": {"silence", "IKE_R_MM2",
			"RFC 2409, Section 5.5: quick mode runs under a complete ISAKMP SA; without keys the message cannot even be read"},
		"Informational": {"silence", "IKE_R_MM2",
			"RFC 2409, Section 5.7: protected with the ISAKMP SA's keys, which do not exist yet"},
		"Informational in clear": {"silence", "IKE_R_MM2",
			"RFC 2408, Section 4.8 lets errors go in clear before keys exist; anyone could send one, so it is noted and ends nothing (RFC 7296, Section 2.21.1's rule)"},
		"Transaction": {"silence", "IKE_R_MM2",
			"draft-beaulieu-ike-xauth-02, Section 4: XAUTH runs after phase 1, protected by it"},
		"New Group Mode": {"silence", "IKE_R_MM2",
			"RFC 2409, Section 6.2: New Group Mode is optional; ikesim, like strongSwan, does not implement it"},
	},
	"waiting for message 5": {
		"Main Mode": {"silence", "IKE_R_MM4",
			"RFC 2409, Section 5: message 5 is encrypted (HDR*); a clear main mode message is no message 5"},
		"Aggressive Mode": {"silence", "IKE_R_MM4", "RFC 2408, Section 2.5.3: not this SA's exchange"},
		"Quick Mode": {"silence", "IKE_R_MM4",
			"RFC 2409, Section 5.5: only after phase 1; with signatures anyone who did the Diffie-Hellman exchange holds SKEYID_a, so a HASH(1) proves nothing yet (strongSwan ignores it too)"},
		"Informational": {"silence", "IKE_R_MM4",
			"RFC 2409, Section 5.7: HASH(1) authenticates only once phase 1 has authenticated the peer"},
		"Informational in clear": {"silence", "IKE_R_MM4", "RFC 2408, Section 4.8: noted, ends nothing"},
		"Transaction":            {"silence", "IKE_R_MM4", "draft-beaulieu-ike-xauth-02: after phase 1 only"},
		"New Group Mode":         {"silence", "IKE_R_MM4", "not implemented"},
	},
	"XAUTH pending": {
		"Main Mode":       {"silence", "IKE_XAUTH_REQ_SENT", "strongSwan ignores main mode on an ISAKMP SA whose phase 1 is complete"},
		"Aggressive Mode": {"silence", "IKE_XAUTH_REQ_SENT", "likewise"},
		"Quick Mode": {"silence", "IKE_XAUTH_REQ_SENT",
			"draft-beaulieu-ike-xauth-02, Section 4: the user is authenticated before any IPsec SA; strongSwan ignores quick mode until then"},
		"Informational": {"Informational HDR*, HASH, N(R-U-THERE-ACK)", "IKE_XAUTH_REQ_SENT",
			"RFC 3706, Section 5.2: R-U-THERE is answered under the ISAKMP SA, which is complete (strongSwan queues it until XAUTH ends)"},
		"Informational in clear": {"silence", "IKE_XAUTH_REQ_SENT",
			"RFC 2409, Section 5.7: after phase 1 informationals are protected; one in clear could come from anyone"},
		"Transaction": {"Transaction HDR*, HASH, ATTR(SET)", "IKE_XAUTH_SET_SENT",
			"draft-beaulieu-ike-xauth-02, Section 4: the REPLY with the right password is answered by a SET with XAUTH-STATUS OK"},
		"New Group Mode": {"silence", "IKE_XAUTH_REQ_SENT", "not implemented"},
	},
	"established": {
		"Main Mode":       {"silence", "IKE_P1_COMPLETE", "strongSwan ignores main mode on an ISAKMP SA whose phase 1 is complete"},
		"Aggressive Mode": {"silence", "IKE_P1_COMPLETE", "likewise"},
		"Quick Mode": {"Quick Mode HDR*, HASH(2), SA, Nr, IDci, IDcr", "IKE_P1_COMPLETE",
			"RFC 2409, Section 5.5: message 1 with a HASH(1) that verifies is answered by message 2"},
		"Informational": {"Informational HDR*, HASH, N(R-U-THERE-ACK)", "IKE_P1_COMPLETE", "RFC 3706, Section 5.2"},
		"Informational in clear": {"silence", "IKE_P1_COMPLETE",
			"RFC 2409, Section 5.7: after phase 1 informationals are protected"},
		"Transaction": {"silence", "IKE_P1_COMPLETE",
			"draft-beaulieu-ike-xauth-02: a REPLY answers a REQUEST; this one answers nothing the gateway asked"},
		"New Group Mode": {"silence", "IKE_P1_COMPLETE", "not implemented"},
	},
	"deleted": {
		"Main Mode":              {"silence", "gone", "RFC 2408, Section 3.15: after a Delete the SA's cookies name nothing"},
		"Aggressive Mode":        {"silence", "gone", "likewise"},
		"Quick Mode":             {"silence", "gone", "likewise"},
		"Informational":          {"silence", "gone", "likewise"},
		"Informational in clear": {"silence", "gone", "likewise"},
		"Transaction":            {"silence", "gone", "likewise"},
		"New Group Mode":         {"silence", "gone", "likewise"},
	},
}

// TestExchangesByState runs every cell of the table.
func TestExchangesByState(t *testing.T) {
	for _, st := range tableStates() {
		for _, ex := range tableExchanges() {
			cell, ok := table[st.name][ex.name]
			if !ok {
				t.Fatalf("no cell for %s × %s", st.name, ex.name)
			}
			t.Run(st.name+"/"+ex.name, func(t *testing.T) {
				n, p := victim(t, xauthGateway)
				p.Auth = ikev1.AuthXAUTHInitPSK // the states before phase 1 completes offer it too
				xauth := st.setup(t, n, p)
				p.Drain()
				mark := n.Victim.Mark()
				ex.send(t, p, xauth)
				var replies []string
				for _, e := range n.Victim.Since(mark, ikev1test.KindSent) {
					replies = append(replies, e.Text)
				}
				want := []string{cell.reply}
				if cell.reply == "silence" {
					want = nil
				}
				if !slices.Equal(replies, want) {
					t.Errorf("the victim sent %q, want %s (%s)", replies, cell.reply, cell.why)
				}
				if got := isakmpState(n); got != cell.state {
					t.Errorf("state afterwards %s, want %s (%s)", got, cell.state, cell.why)
				}
			})
		}
	}
}

// isakmpState is the state of the victim's one ISAKMP SA, or "gone".
func isakmpState(n *ikev1test.Net) string {
	sas := n.Victim.D.SAs()
	switch len(sas) {
	case 0:
		return "gone"
	case 1:
		return string(sas[0].State)
	}
	return fmt.Sprintf("%d ISAKMP SAs", len(sas))
}
