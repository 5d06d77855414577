package ikev2_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/ikev2/ikev2test"
)

// TestExchangeStateTable sends every IKEv2 exchange, correctly protected where the
// attacker holds keys, to an IKE SA in every state, and checks what RFC 7296 requires
// of the victim: its answer (the summary of the decrypted response, or none), the IKE
// SA's state afterwards (gone: destroyed) and its message ID window afterwards (the ID
// the next request from the peer must carry; the victim's own requests must be where
// they were). Where the RFC leaves a choice the cell does what strongSwan does.
func TestExchangeStateTable(t *testing.T) {
	type cell struct {
		resp   string // summary of the response, "" for none
		state  string
		window uint32
		rfc    string
	}
	none := func(state string, window uint32, rfc string) cell { return cell{"", state, window, rfc} }
	gone := func(resp, rfc string) cell { return cell{resp, "gone", 0, rfc} }
	const (
		refusedInit   = "3.1: IKE_SA_INIT starts an IKE SA; one with an SA's SPIs is no message of it"
		authOnce      = "1.2: IKE_AUTH follows IKE_SA_INIT once, to the responder (strongSwan's reject_request)"
		notBeforeAuth = "1.3, 1.4: CREATE_CHILD_SA and INFORMATIONAL only after the initial exchanges"
		halfOpenEnds  = "1.3: not before IKE_AUTH; strongSwan destroys the half-open IKE SA"
		rekeyedOnly   = "2.18: a rekeyed IKE SA only awaits its Delete (strongSwan's reject_request)"
		tempFailure   = "2.25: TEMPORARY_FAILURE while the IKE SA is rekeyed or deleted (strongSwan)"
		unknownEx     = "3.10.1: INVALID_SYNTAX, a type out of range"
		unsolicited   = "2.1: a response must answer a request this side sent"
	)
	exchanges := []struct {
		name string
		ex   ikev2.ExchangeType
		resp bool
		body func(*bench, testing.TB) []ikev2.Payload
	}{
		{"IKE_SA_INIT", ikev2.IKE_SA_INIT, false, nil},
		{"IKE_AUTH", ikev2.IKE_AUTH, false, (*bench).authPayloads},
		{"new Child SA", ikev2.CREATE_CHILD_SA, false, func(b *bench, _ testing.TB) []ikev2.Payload { return b.newChild(0x5678) }},
		{"Child SA rekey", ikev2.CREATE_CHILD_SA, false, (*bench).rekeyChild},
		{"IKE SA rekey", ikev2.CREATE_CHILD_SA, false, (*bench).rekeyIKE},
		{"liveness", ikev2.INFORMATIONAL, false, func(*bench, testing.TB) []ikev2.Payload { return nil }},
		{"Child SA delete", ikev2.INFORMATIONAL, false, func(*bench, testing.TB) []ikev2.Payload {
			return []ikev2.Payload{&ikev2.Delete{Protocol: ike.ProtoESP, SPISize: 4, SPIs: [][]byte{ikev2test.SPI(peerESPSPI)}}}
		}},
		{"IKE SA delete", ikev2.INFORMATIONAL, false, func(*bench, testing.TB) []ikev2.Payload {
			return []ikev2.Payload{&ikev2.Delete{Protocol: ike.ProtoIKE}}
		}},
		{"exchange type 99", 99, false, func(*bench, testing.TB) []ikev2.Payload { return nil }},
		{"unsolicited response", ikev2.INFORMATIONAL, true, func(*bench, testing.TB) []ikev2.Payload { return nil }},
	}
	states := []struct {
		name  string
		setup func(*bench, testing.TB)
		cells []cell // one for each exchange, in order
	}{
		{"half-open", (*bench).halfOpen, []cell{
			none("CONNECTING", 1, refusedInit),
			{"HDR, SK {IDr, AUTH}", "ESTABLISHED", 2, "1.2, 2.15: the IKE_AUTH that authenticates the initiator"},
			gone("", halfOpenEnds),
			gone("", halfOpenEnds),
			gone("", halfOpenEnds),
			none("CONNECTING", 1, notBeforeAuth),
			none("CONNECTING", 1, notBeforeAuth),
			none("CONNECTING", 1, notBeforeAuth),
			none("CONNECTING", 1, notBeforeAuth),
			none("CONNECTING", 1, unsolicited),
		}},
		{"waiting for AUTH", (*bench).rogue, []cell{
			none("CONNECTING", 0, refusedInit),
			none("CONNECTING", 0, authOnce),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, notBeforeAuth),
			none("CONNECTING", 0, unsolicited),
		}},
		{"established", (*bench).established, []cell{
			none("ESTABLISHED", 2, refusedInit),
			none("ESTABLISHED", 2, authOnce),
			{"HDR, SK {SA, Nr, TSi, TSr}", "ESTABLISHED", 3, "1.3.1: a new Child SA"},
			{"HDR, SK {SA, Nr, TSi, TSr}", "ESTABLISHED", 3, "1.3.3: the Child SA rekeyed"},
			{"HDR, SK {SA, Nr, KEr}", "REKEYED", 3, "1.3.2, 2.18: the IKE SA rekeyed"},
			{"HDR, SK {}", "ESTABLISHED", 3, "1.4: an empty INFORMATIONAL is answered"},
			{"HDR, SK {D}", "ESTABLISHED", 3, "1.4.1: the other half of the Child SA in the answer"},
			gone("HDR, SK {}", "1.4.1: an empty answer, then the IKE SA goes"),
			{"HDR, SK {N(INVALID_SYNTAX)}", "ESTABLISHED", 3, unknownEx},
			none("ESTABLISHED", 2, unsolicited),
		}},
		{"rekeying", (*bench).rekeying, []cell{
			none("REKEYING", 2, refusedInit),
			none("REKEYING", 2, authOnce),
			{"HDR, SK {N(TEMPORARY_FAILURE)}", "REKEYING", 3, tempFailure},
			{"HDR, SK {N(TEMPORARY_FAILURE)}", "REKEYING", 3, tempFailure},
			{"HDR, SK {SA, Nr, KEr}", "REKEYING", 3, "2.8.2: a crossing IKE SA rekey is answered; our own response settles which new SA survives"},
			{"HDR, SK {}", "REKEYING", 3, "1.4"},
			{"HDR, SK {D}", "REKEYING", 3, "1.4.1"},
			gone("HDR, SK {}", "2.25.2: answer as usual and forget our own rekeying"),
			{"HDR, SK {N(INVALID_SYNTAX)}", "REKEYING", 3, unknownEx},
			none("REKEYING", 2, unsolicited),
		}},
		{"deleting", (*bench).deleting, []cell{
			none("DELETING", 2, refusedInit),
			none("DELETING", 2, authOnce),
			{"HDR, SK {N(TEMPORARY_FAILURE)}", "DELETING", 3, tempFailure},
			{"HDR, SK {N(TEMPORARY_FAILURE)}", "DELETING", 3, tempFailure},
			{"HDR, SK {N(TEMPORARY_FAILURE)}", "DELETING", 3, "2.25.2: a rekey of an IKE SA being closed gets TEMPORARY_FAILURE"},
			{"HDR, SK {}", "DELETING", 3, "1.4"},
			{"HDR, SK {D}", "DELETING", 3, "1.4.1"},
			gone("HDR, SK {}", "2.25.2: answer as usual and forget our own close request"),
			{"HDR, SK {N(INVALID_SYNTAX)}", "DELETING", 3, unknownEx},
			none("DELETING", 2, unsolicited),
		}},
		{"rekeyed", (*bench).rekeyed, []cell{
			none("REKEYED", 3, refusedInit),
			none("REKEYED", 3, authOnce),
			none("REKEYED", 3, rekeyedOnly),
			none("REKEYED", 3, rekeyedOnly),
			none("REKEYED", 3, rekeyedOnly),
			{"HDR, SK {}", "REKEYED", 4, "1.4"},
			{"HDR, SK {}", "REKEYED", 4, "1.4.1: its Child SAs moved to the new IKE SA: nothing to delete here"},
			gone("HDR, SK {}", "2.18: the old IKE SA is deleted"),
			none("REKEYED", 3, rekeyedOnly),
			none("REKEYED", 3, unsolicited),
		}},
	}
	for _, st := range states {
		for i, ex := range exchanges {
			want := st.cells[i]
			t.Run(st.name+"/"+ex.name, func(t *testing.T) {
				b := newBench(t, 30)
				st.setup(b, t)
				b.p.Take()
				before := b.status(t)
				var body []ikev2.Payload
				if ex.body != nil {
					body = ex.body(b, t)
				}
				var raw []byte
				switch {
				case ex.ex == ikev2.IKE_SA_INIT:
					raw = b.p.Forge(b.p.Header(ex.ex, before.NextPeerID, false), ikev2.NewSA(nil, b.p.Proposal),
						&ikev2.Nonce{Data: bytes.Repeat([]byte{1}, 32)})
				case ex.resp:
					raw = b.p.Protect(b.p.Header(ex.ex, before.NextRequestID+7, true), body...)
				default:
					raw = b.p.Protect(b.p.Header(ex.ex, before.NextPeerID, false), body...)
				}
				got := b.p.Roundtrip(raw)
				var resp string
				for _, r := range got {
					if r.Msg != nil && r.Msg.IsResponse() && r.Msg.MessageID == before.NextPeerID {
						resp = ikev2.Summary(r.Msg, false)
					}
				}
				if resp != want.resp {
					t.Errorf("answer %q, want %q (RFC 7296, Section %s)", resp, want.resp, want.rfc)
				}
				after, ok := b.find()
				state := "gone"
				if ok {
					state = after.State
				}
				if state != want.state {
					t.Errorf("state %s, want %s (RFC 7296, Section %s)", state, want.state, want.rfc)
				}
				if ok && (after.NextPeerID != want.window || after.NextRequestID != before.NextRequestID || after.Outstanding != before.Outstanding) {
					t.Errorf("window: expects request %d, own next %d (outstanding %v); want %d, %d (%v) (RFC 7296, Section %s)",
						after.NextPeerID, after.NextRequestID, after.Outstanding, want.window, before.NextRequestID, before.Outstanding, want.rfc)
				}
			})
		}
	}
}

// find is the victim's IKE SA with the attacker's SPIs.
func (b *bench) find() (ikev2.SAStatus, bool) {
	for _, s := range b.d.SAs() {
		if s.SPIi == b.p.SPIi && s.SPIr == b.p.SPIr {
			return s, true
		}
	}
	return ikev2.SAStatus{}, false
}

func (b *bench) status(t testing.TB) ikev2.SAStatus {
	t.Helper()
	s, ok := b.find()
	if !ok {
		t.Fatalf("the victim has no IKE SA with the attacker's SPIs: %+v", b.d.SAs())
	}
	return s
}

// authPayloads are an initiator's IKE_AUTH request: IDi and AUTH with the PSK.
func (b *bench) authPayloads(testing.TB) []ikev2.Payload {
	id := ikev2test.ID(attacker)
	octets := ikev2.SignedOctets(b.p.PRF, b.p.InitRequest, b.p.Nr, b.p.Keys.SKpi, id)
	return []ikev2.Payload{&ikev2.ID{Type: ikev2.IDType(id.Type), Data: id.Value},
		&ikev2.Auth{Method: ikev2.AuthSharedKeyMIC, Data: ikev2.PSKAuth(b.p.PRF, []byte(psk), octets)}}
}

// rekeyChild is a CREATE_CHILD_SA request body that rekeys the Child SA of IKE_AUTH.
func (b *bench) rekeyChild(testing.TB) []ikev2.Payload {
	return append([]ikev2.Payload{&ikev2.Notify{Type: ikev2.REKEY_SA, Protocol: ike.ProtoESP, SPI: ikev2test.SPI(peerESPSPI)}},
		b.newChild(0x9abc)...)
}

// rekeying has the victim start an IKE SA rekey that the attacker leaves unanswered.
func (b *bench) rekeying(t testing.TB) {
	b.established(t)
	if err := b.d.Rekey("c", ""); err != nil {
		t.Fatal(err)
	}
	b.awaitRequest(t, ikev2.CREATE_CHILD_SA)
}

// deleting has the victim delete the IKE SA; the attacker leaves it unanswered.
func (b *bench) deleting(t testing.TB) {
	b.established(t)
	if err := b.d.Delete("c", ""); err != nil {
		t.Fatal(err)
	}
	b.awaitRequest(t, ikev2.INFORMATIONAL)
}

// rekeyed has the attacker rekey the IKE SA: the victim's old one awaits its Delete.
func (b *bench) rekeyed(t testing.TB) {
	b.established(t)
	b.p.Request(ikev2.CREATE_CHILD_SA, b.rekeyIKE(t)...)
	b.n.Run(time.Second)
	if s := b.status(t); s.State != "REKEYED" {
		t.Fatalf("after the attacker's rekey the old IKE SA is %s", s.State)
	}
}

func (b *bench) awaitRequest(t testing.TB, ex ikev2.ExchangeType) {
	t.Helper()
	if b.p.Await(time.Second, func(m *ikev2.Message) bool { return m.Exchange == ex && !m.IsResponse() }) == nil {
		t.Fatalf("the victim sent no %s request", ex)
	}
}
