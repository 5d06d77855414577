package ikev2_test

import (
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/ikev2/ikev2test"
)

// Post-handshake fuzzing: the attacker brings an IKE SA up with the victim, so that it
// holds the real keys, and then sends a request, or answers one of the victim's, whose
// inner payloads are the fuzzer's bytes, correctly protected: they pass the integrity
// check and reach the exchange handlers. The seeds are the inner payloads of real
// exchanges between two daemons.

// fuzzMode is what the attacker does with the fuzzed payloads.
type fuzzMode uint8

const (
	fuzzChildRequest    fuzzMode = iota // a CREATE_CHILD_SA request
	fuzzInfoRequest                     // an INFORMATIONAL request
	fuzzChildRekeyReply                 // the answer to the victim's Child SA rekey
	fuzzIKERekeyReply                   // the answer to the victim's IKE SA rekey
	fuzzLivenessReply                   // the answer to the victim's liveness check
	fuzzDeleteReply                     // the answer to the victim's Child SA delete
	fuzzModes
)

// victimRequest makes the victim send the request a mode answers.
var victimRequest = map[fuzzMode]struct {
	ex    ikev2.ExchangeType
	start func(*ikev2.Daemon) error
}{
	fuzzChildRekeyReply: {ikev2.CREATE_CHILD_SA, func(d *ikev2.Daemon) error { return d.Rekey("c", "net") }},
	fuzzIKERekeyReply:   {ikev2.CREATE_CHILD_SA, func(d *ikev2.Daemon) error { return d.Rekey("c", "") }},
	fuzzLivenessReply:   {ikev2.INFORMATIONAL, func(d *ikev2.Daemon) error { return d.Liveness("c") }},
	fuzzDeleteReply:     {ikev2.INFORMATIONAL, func(d *ikev2.Daemon) error { return d.Delete("c", "net") }},
}

func FuzzEstablishedSA(f *testing.F) {
	for _, s := range realInnerPayloads(f) {
		f.Add(uint8(s.mode), uint8(s.first), s.chain)
	}
	f.Add(uint8(fuzzInfoRequest), uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, mode, first uint8, chain []byte) {
		b := newBench(t, 40)
		b.established(t)
		m := fuzzMode(mode % uint8(fuzzModes))
		before := b.status(t)
		var answered bool
		if vr, ok := victimRequest[m]; ok {
			if err := vr.start(b.d); err != nil {
				t.Fatal(err)
			}
			req := b.p.Await(time.Second, func(msg *ikev2.Message) bool { return msg.Exchange == vr.ex && !msg.IsResponse() })
			if req == nil {
				t.Fatalf("the victim sent no %s request", vr.ex)
			}
			b.p.Send(b.p.ProtectChain(b.p.Header(vr.ex, req.MessageID, true), ikev2.PayloadType(first), chain))
		} else {
			ex := ikev2.CREATE_CHILD_SA
			if m == fuzzInfoRequest {
				ex = ikev2.INFORMATIONAL
			}
			got := b.p.Roundtrip(b.p.ProtectChain(b.p.Header(ex, before.NextPeerID, false), ikev2.PayloadType(first), chain))
			for _, r := range got {
				answered = answered || (r.Msg != nil && r.Msg.IsResponse() && r.Msg.MessageID == before.NextPeerID)
			}
			// The window moves by one, and only with an answer (RFC 7296, Section 2.3).
			moved := uint32(1)
			if !answered {
				moved = 0
			}
			if after, ok := b.find(); ok && after.NextPeerID != before.NextPeerID+moved {
				t.Errorf("window moved from %d to %d (answered: %v)", before.NextPeerID, after.NextPeerID, answered)
			}
		}
		b.n.Run(2 * time.Minute) // retransmissions, lifetimes, deletes of what came up
		total, _ := b.d.HalfOpen(victimPort.Addr())
		half := 0
		for _, s := range b.d.SAs() {
			if s.HalfOpen {
				half++
			}
		}
		if total != half {
			t.Errorf("half-open count %d, but %d IKE SAs are half-open", total, half)
		}
	})
}

// fuzzSeed is the inner payloads of one real message.
type fuzzSeed struct {
	mode  fuzzMode
	first ikev2.PayloadType
	chain []byte
}

// realInnerPayloads runs two daemons through a Child SA rekey, an IKE SA rekey, a
// liveness check and a Child SA delete, and returns the inner payloads of what they
// sent, by the mode that sends such payloads.
func realInnerPayloads(f *testing.F) []fuzzSeed {
	n := ikev2test.NewNet(41)
	var recs []*ikev2test.Recorder
	var ds []*ikev2.Daemon
	for _, ends := range [][2]string{{victim, attacker}, {attacker, victim}} {
		c, err := ikev2test.PSKConn(ends[0], ends[1], psk, ikeProp, espProp)
		if err != nil {
			f.Fatal(err)
		}
		d, rec, err := n.Daemon(ends[0], c)
		if err != nil {
			f.Fatal(err)
		}
		ds, recs = append(ds, d), append(recs, rec)
	}
	ds[0].Acquire(1)
	n.Run(time.Second)
	for _, step := range []func() error{
		func() error { return ds[0].Rekey("c", "net") },
		func() error { return ds[0].Rekey("c", "") },
		func() error { return ds[0].Liveness("c") },
		func() error { return ds[0].Delete("c", "net") },
	} {
		if err := step(); err != nil {
			f.Fatal(err)
		}
		n.Run(time.Second)
	}
	var seeds []fuzzSeed
	for _, dg := range n.Sent() {
		m, err := ikev2.Parse(dg.Data)
		if err != nil || m.Encrypted() == nil || (m.Exchange != ikev2.CREATE_CHILD_SA && m.Exchange != ikev2.INFORMATIONAL) {
			continue
		}
		if !decryptWithAny(m, recs[0].IKEUp) {
			f.Fatalf("cannot open the %s the daemons sent", m.Exchange)
		}
		e := m.Encrypted()
		seeds = append(seeds, fuzzSeed{modeOf(m), e.FirstPayload, e.Plaintext[:len(e.Plaintext)-1-len(e.Padding)]})
	}
	if len(seeds) < 8 {
		f.Fatalf("only %d seeds from real exchanges", len(seeds))
	}
	return seeds
}

// decryptWithAny opens m with the keys of whichever reported IKE SA it belongs to.
func decryptWithAny(m *ikev2.Message, sas []*ike.IKESAInfo) bool {
	for _, info := range sas {
		if info.SPIi != m.SPIi || info.SPIr != m.SPIr {
			continue
		}
		sk, err := ikev2test.SK(info, m.FromInitiator())
		return err == nil && m.Decrypt(nil, sk) == nil
	}
	return false
}

// modeOf is the fuzz mode whose message carries payloads like m's.
func modeOf(m *ikev2.Message) fuzzMode {
	inner := m.Inner()
	switch {
	case !m.IsResponse() && m.Exchange == ikev2.CREATE_CHILD_SA:
		return fuzzChildRequest
	case !m.IsResponse():
		return fuzzInfoRequest
	case m.Exchange == ikev2.CREATE_CHILD_SA && has[*ikev2.KE](inner):
		return fuzzIKERekeyReply
	case m.Exchange == ikev2.CREATE_CHILD_SA:
		return fuzzChildRekeyReply
	case has[*ikev2.Delete](inner):
		return fuzzDeleteReply
	}
	return fuzzLivenessReply
}

func has[T ikev2.Payload](ps []ikev2.Payload) bool {
	for _, p := range ps {
		if _, ok := p.(T); ok {
			return true
		}
	}
	return false
}
