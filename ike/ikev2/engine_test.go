package ikev2

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
)

// world connects IKEv2 daemons in memory, on a manual clock (iketest.Net): datagrams
// arrive after a fixed delay, in order, unless drop says otherwise.
type world struct {
	*iketest.Net
	t       testing.TB
	daemons map[netip.Addr]*Daemon
	obs     map[netip.Addr]*recorder
	drop    func(dg ike.Datagram) bool
	sent    []ike.Datagram
}

func newWorld(t testing.TB) *world {
	return &world{Net: iketest.NewNet(iketest.Start, 0), t: t, daemons: map[netip.Addr]*Daemon{}, obs: map[netip.Addr]*recorder{}}
}

// run delivers and fires everything due up to d from now.
func (w *world) run(d time.Duration) { w.Run(d) }

// Send is the daemons' transport: it logs every datagram, then delivers what drop
// does not lose.
func (w *world) Send(dg ike.Datagram) {
	w.sent = append(w.sent, dg)
	if w.drop != nil && w.drop(dg) {
		return
	}
	w.Deliver(dg)
}

func (w *world) SendKeepalive(local, remote netip.AddrPort) {}

// recorder is an ike.Observer that keeps what it is told.
type recorder struct {
	actions, errors, drops []string
	ikeUp                  []*ike.IKESAInfo
	childUp, childDown     []*ike.ChildSAInfo
	states                 []string
}

func (r *recorder) Action(text string)                       { r.actions = append(r.actions, text) }
func (r *recorder) State(s ike.StateChange)                  { r.states = append(r.states, s.Machine+" "+s.To) }
func (r *recorder) NATDetected(n ike.NATInfo)                { r.actions = append(r.actions, n.Text) }
func (r *recorder) Received(ike.Datagram)                    {}
func (r *recorder) Dropped(_ ike.Datagram, why string)       { r.drops = append(r.drops, why) }
func (r *recorder) IKESAUp(sa *ike.IKESAInfo)                { r.ikeUp = append(r.ikeUp, sa) }
func (r *recorder) IKESADown(*ike.IKESAInfo, string)         {}
func (r *recorder) ChildSAUp(c *ike.ChildSAInfo)             { r.childUp = append(r.childUp, c) }
func (r *recorder) ChildSADown(c *ike.ChildSAInfo, _ string) { r.childDown = append(r.childDown, c) }
func (r *recorder) Error(f ike.Failure)                      { r.errors = append(r.errors, f.Text) }

func mustProposal(t testing.TB, s string, p ike.Protocol) ike.Proposal {
	t.Helper()
	pr, err := ike.ParseProposal(s, p)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// conn makes a connection from local to remote with the given IKE and ESP proposals.
func conn(t testing.TB, local, remote string, ikeProps, espProps []string, psk string) *ike.Connection {
	l, r := netip.MustParseAddr(local), netip.MustParseAddr(remote)
	c := &ike.Connection{Name: "c", Version: 2, LocalAddrs: []netip.Addr{l}, RemoteAddrs: []netip.Addr{r}}
	for _, s := range ikeProps {
		c.Proposals = append(c.Proposals, mustProposal(t, s, ike.ProtoIKE))
	}
	lid, _ := ike.ParseIdentity("node-" + local)
	rid, _ := ike.ParseIdentity("node-" + remote)
	c.Local = ike.AuthConfig{Method: "psk", ID: lid, PSK: []byte(psk)}
	c.Remote = ike.AuthConfig{Method: "psk", ID: rid, PSK: []byte(psk)}
	ch := &ike.ChildConfig{Name: "net", LocalTS: []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(l, 32))},
		RemoteTS: []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(r, 32))}, StartAction: "trigger"}
	for _, s := range espProps {
		ch.ESPProposals = append(ch.ESPProposals, mustProposal(t, s, ike.ProtoESP))
	}
	c.Children = []*ike.ChildConfig{ch}
	return c
}

func (w *world) add(addr string, c *ike.Connection, seed byte) (*Daemon, *recorder) {
	a := netip.MustParseAddr(addr)
	rec := &recorder{}
	env := ike.Env{Transport: w, Clock: w, Rand: rand.NewChaCha8([32]byte{seed}), Observer: rec}
	d, err := New(env, addr, []*ike.Connection{c})
	if err != nil {
		w.t.Fatal(err)
	}
	w.daemons[a], w.obs[a] = d, rec
	w.Attach(a, d)
	return d, rec
}

const ipA, ipB = "192.0.2.1", "192.0.2.2"

func pair(t testing.TB, ikeA, ikeB, espA, espB []string, pskA, pskB string) (*world, *Daemon, *recorder, *recorder) {
	w := newWorld(t)
	a, ra := w.add(ipA, conn(t, ipA, ipB, ikeA, espA, pskA), 1)
	_, rb := w.add(ipB, conn(t, ipB, ipA, ikeB, espB, pskB), 2)
	return w, a, ra, rb
}

func TestHandshakeBringsUpMatchingChildSAs(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w, a, ra, rb := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 || len(ra.childUp) != 1 || len(rb.childUp) != 1 {
		t.Fatalf("up: IKE %d/%d, Child %d/%d; errors %v %v", len(ra.ikeUp), len(rb.ikeUp), len(ra.childUp), len(rb.childUp), ra.errors, rb.errors)
	}
	ca, cb := ra.childUp[0], rb.childUp[0]
	if ca.SPIOut != cb.SPIIn || ca.SPIIn != cb.SPIOut {
		t.Errorf("SPIs do not pair: a in %x out %x, b in %x out %x", ca.SPIIn, ca.SPIOut, cb.SPIIn, cb.SPIOut)
	}
	if string(ca.EncrKeyOut) != string(cb.EncrKeyIn) || string(ca.IntegKeyIn) != string(cb.IntegKeyOut) {
		t.Error("the two ends derived different Child SA keys")
	}
	if ia, ib := ra.ikeUp[0], rb.ikeUp[0]; string(ia.SKd) != string(ib.SKd) || ia.SPIi != ib.SPIi || ia.SPIr != ib.SPIr {
		t.Error("the two ends disagree on the IKE SA")
	}
}

func TestInvalidKEPayloadRetry(t *testing.T) {
	w, a, ra, rb := pair(t, []string{"aes128-sha256-modp2048-ecp256"}, []string{"aes128-sha256-ecp256"},
		[]string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 || len(rb.ikeUp) != 1 {
		t.Fatalf("IKE SA not up after INVALID_KE_PAYLOAD: %v %v", ra.errors, rb.errors)
	}
	if !hasText(ra.actions, "INVALID_KE_PAYLOAD") {
		t.Error("the initiator never saw INVALID_KE_PAYLOAD")
	}
	if g, _ := pickTransform(ra.ikeUp[0].Proposal, ike.TransformDH); g.ID != ike.ECP_256 {
		t.Errorf("negotiated group %d, want ECP_256", g.ID)
	}
	inits := 0
	for _, dg := range w.sent {
		if m, err := Parse(dg.Data); err == nil && m.Exchange == IKE_SA_INIT && !m.IsResponse() {
			inits++
		}
	}
	if inits != 2 {
		t.Errorf("%d IKE_SA_INIT requests, want 2 (the first and the retry)", inits)
	}
}

func TestCookieWhenHalfOpenThresholdReached(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w := newWorld(t)
	a, ra := w.add(ipA, conn(t, ipA, ipB, p, []string{"aes128-sha256"}, "k"), 1)
	bc := conn(t, ipB, ipA, p, []string{"aes128-sha256"}, "k")
	bc.CookieThreshold = 1
	b, rb := w.add(ipB, bc, 2)
	for i := range 3 { // as if three other initiators had left half-open SAs
		b.halfOpen.Add(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}))
	}
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.ikeUp) != 1 {
		t.Fatalf("IKE SA not up after the COOKIE round trip: %v %v", ra.errors, rb.errors)
	}
	if !hasText(ra.actions, "COOKIE") || !hasText(rb.actions, "COOKIE matches") {
		t.Errorf("no COOKIE exchange: %v / %v", ra.actions, rb.actions)
	}
	// The retry re-sends SAi1, KEi and Ni: the narration must not claim new ones.
	generated := 0
	for _, a := range ra.actions {
		if strings.Contains(a, "generate a Diffie-Hellman private value") {
			generated++
		}
	}
	if generated != 1 || !hasText(ra.actions, "same SAi1, KEi and Ni") {
		t.Errorf("the COOKIE retry narrates new key material (%d times generated): %q", generated, ra.actions)
	}
}

func TestWrongPSKFailsAuthentication(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w, a, ra, rb := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "one", "two")
	a.Acquire(1)
	w.run(time.Second)
	if len(ra.childUp)+len(rb.childUp)+len(ra.ikeUp)+len(rb.ikeUp) != 0 {
		t.Error("SAs came up with different pre-shared keys")
	}
	if !hasText(rb.errors, "AUTHENTICATION_FAILED") || !hasText(ra.errors, "AUTHENTICATION_FAILED") {
		t.Errorf("errors: a %v, b %v", ra.errors, rb.errors)
	}
}

func TestRetransmissionBacksOffThenGivesUp(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w, a, ra, _ := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	var at []time.Duration
	start := w.Now()
	w.drop = func(dg ike.Datagram) bool {
		at = append(at, w.Now().Sub(start))
		return true
	}
	a.Acquire(1)
	w.run(time.Minute)
	want := []time.Duration{0, 2 * time.Second, 5600 * time.Millisecond, 12080 * time.Millisecond, 23744 * time.Millisecond}
	if len(at) != len(want) {
		t.Fatalf("sent at %v, want %v", at, want)
	}
	for i := range want {
		if d := at[i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("try %d at %v, want %v", i+1, at[i], want[i])
		}
	}
	if !hasText(ra.errors, "giving up") {
		t.Errorf("no give-up error: %v", ra.errors)
	}
}

func TestMalformedInnerPayloadGetsInvalidSyntax(t *testing.T) {
	p := []string{"aes128-sha256-modp2048"}
	w, a, _, rb := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	a.Acquire(1)
	w.run(time.Second)
	var sa *ikeSA
	for _, s := range a.sas {
		sa = s
	}
	// An INFORMATIONAL request whose SK payload verifies but holds a truncated Delete.
	m := &Message{Header: sa.header(INFORMATIONAL, sa.nextRequestID, false),
		Payloads: []Payload{&Encrypted{Inner: []Payload{&Unknown{Type: PayloadDelete, Body: []byte{3}}}}}}
	raw, err := m.Marshal(sa.skOut(), rand.NewChaCha8([32]byte{9}))
	if err != nil {
		t.Fatal(err)
	}
	w.sent = nil
	w.daemons[netip.MustParseAddr(ipB)].HandleDatagram(netip.MustParseAddrPort(ipB+":500"), netip.MustParseAddrPort(ipA+":500"), raw)
	if !hasText(rb.errors, "INVALID_SYNTAX") {
		t.Fatalf("responder errors: %v", rb.errors)
	}
	if len(w.sent) != 1 {
		t.Fatalf("responder sent %d datagrams, want one answer", len(w.sent))
	}
	resp, err := Parse(w.sent[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Decrypt(nil, sa.skIn()); err != nil {
		t.Fatal(err)
	}
	if n := notifyIn(resp.Inner(), INVALID_SYNTAX); n == nil {
		t.Errorf("the answer is %s, want N(INVALID_SYNTAX)", Summary(resp, false))
	}
}

func hasText(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// FuzzHandleDatagram feeds arbitrary datagrams to a responder and to an initiator in
// the middle of a handshake: they must never panic.
func FuzzHandleDatagram(f *testing.F) {
	p := []string{"aes128-sha256-x25519"} // a fast group: each input runs a handshake
	w, a, _, _ := pair(f, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
	a.Acquire(1)
	w.run(time.Second)
	for _, dg := range w.sent {
		f.Add(dg.Data)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 28))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, a, _, _ := pair(t, p, p, []string{"aes128-sha256"}, []string{"aes128-sha256"}, "k", "k")
		a.Acquire(1)
		w.run(15 * time.Millisecond) // the IKE_SA_INIT request reached b
		for _, d := range w.daemons {
			d.HandleDatagram(netip.MustParseAddrPort(ipB+":500"), netip.MustParseAddrPort(ipA+":500"), data)
			d.HandleDatagram(netip.MustParseAddrPort(ipA+":500"), netip.MustParseAddrPort(ipB+":500"), data)
		}
		w.run(time.Minute)
	})
}
