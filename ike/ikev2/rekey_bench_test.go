package ikev2

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// rekeyBench is two IKEv2 daemons with one IKE SA and one Child SA between them, for
// the rekey, delete and create situations of testdata/rekey-situations.md. A is the
// peer that starts the action under test and B the other; with role 1, A is the
// original IKE responder.
type rekeyBench struct {
	t     *testing.T
	w     *world
	d     [2]*Daemon // A, B
	r     [2]*recorder
	holds []*hold
}

// hold keeps back the datagrams from one peer of one exchange and direction (after
// skip of them went through) until released.
type hold struct {
	from     netip.Addr
	ex       ExchangeType
	response bool
	skip     int
	max      int // how many to keep back (0: all)
	got      []ike.Datagram
}

const (
	benchIKE = "aes128-sha256-x25519"
	benchESP = "aes128gcm16"
)

func newRekeyBench(t *testing.T, role int, seed byte) *rekeyBench {
	t.Helper()
	w := newWorld(t)
	p, e := []string{benchIKE}, []string{benchESP}
	x, rx := w.add(ipA, conn(t, ipA, ipB, p, e, "k"), seed)
	y, ry := w.add(ipB, conn(t, ipB, ipA, p, e, "k"), seed+100)
	b := &rekeyBench{t: t, w: w}
	b.d, b.r = [2]*Daemon{x, y}, [2]*recorder{rx, ry}
	if role == 1 {
		b.d, b.r = [2]*Daemon{y, x}, [2]*recorder{ry, rx}
	}
	w.drop = b.keep
	if err := x.Initiate("c", ""); err != nil {
		t.Fatal(err)
	}
	w.run(time.Second)
	for i := range b.d {
		if len(b.children(i)) != 1 || len(b.ikeSAs(i)) != 1 {
			t.Fatalf("set-up: peer %d has %d Child SAs, %d IKE SAs; errors %v", i, len(b.children(i)), len(b.ikeSAs(i)), b.r[i].errors)
		}
	}
	return b
}

func (b *rekeyBench) addr(i int) netip.Addr {
	for a, d := range b.w.daemons {
		if d == b.d[i] {
			return a
		}
	}
	return netip.Addr{}
}

// keep is the world's drop function: it keeps back what a hold asks for.
func (b *rekeyBench) keep(dg ike.Datagram) bool {
	m, err := Parse(dg.Data)
	if err != nil {
		return false
	}
	for _, h := range b.holds {
		if dg.Local.Addr() != h.from || m.Exchange != h.ex || m.IsResponse() != h.response {
			continue
		}
		if h.skip > 0 {
			h.skip--
			continue
		}
		if h.max > 0 && len(h.got) >= h.max {
			continue
		}
		h.got = append(h.got, dg)
		return true
	}
	return false
}

// holdBack keeps back the next max (0: all) messages of exchange ex that peer i sends,
// requests or responses.
func (b *rekeyBench) holdBack(i int, ex ExchangeType, response bool, max int) *hold {
	h := &hold{from: b.addr(i), ex: ex, response: response, max: max}
	b.holds = append(b.holds, h)
	return h
}

// release delivers what h kept back, once, and stops holding.
func (b *rekeyBench) release(h *hold) {
	for i, x := range b.holds {
		if x == h {
			b.holds = append(b.holds[:i], b.holds[i+1:]...)
			break
		}
	}
	for _, dg := range h.got {
		b.w.Deliver(dg)
	}
	h.got = nil
}

// drop loses what h kept back.
func (b *rekeyBench) drop(h *hold) { h.got = nil }

func (b *rekeyBench) ikeSAs(i int) []*ikeSA {
	var out []*ikeSA
	for _, sa := range b.d[i].sas {
		if sa.state != stateDestroyed {
			out = append(out, sa)
		}
	}
	return out
}

// sa is peer i's IKE SA in use: the newest established or rekeying one.
func (b *rekeyBench) sa(i int) *ikeSA {
	var best *ikeSA
	for _, sa := range b.ikeSAs(i) {
		if (sa.state == stateEstablished || sa.state == stateRekeying) && (best == nil || sa.serial > best.serial) {
			best = sa
		}
	}
	return best
}

func (b *rekeyBench) children(i int) []*childSA {
	var out []*childSA
	for _, sa := range b.ikeSAs(i) {
		for _, ch := range sa.children {
			if ch.state != "DESTROYED" {
				out = append(out, ch)
			}
		}
	}
	return out
}

func (b *rekeyBench) child(i int) *childSA {
	b.t.Helper()
	cs := b.children(i)
	if len(cs) != 1 {
		b.t.Fatalf("peer %d has %d Child SAs, want 1", i, len(cs))
	}
	return cs[0]
}

func (b *rekeyBench) run(d time.Duration) { b.w.run(d) }

func (b *rekeyBench) rekeyChild(i int) {
	if err := b.d[i].Rekey("c", "net"); err != nil {
		b.t.Fatal(err)
	}
}

func (b *rekeyBench) rekeyIKE(i int) {
	if err := b.d[i].Rekey("c", ""); err != nil {
		b.t.Fatal(err)
	}
}

func (b *rekeyBench) deleteChild(i int) {
	if err := b.d[i].Delete("c", "net"); err != nil {
		b.t.Fatal(err)
	}
}

func (b *rekeyBench) deleteIKE(i int) {
	if err := b.d[i].Delete("c", ""); err != nil {
		b.t.Fatal(err)
	}
}

// paired checks that each peer has exactly one Child SA (or none, with zero) and that
// they are the two halves of one pair, on IKE SAs that pair too.
func (b *rekeyBench) paired(want int) {
	b.t.Helper()
	ca, cb := b.children(0), b.children(1)
	if len(ca) != want || len(cb) != want {
		b.t.Fatalf("Child SAs: A %d, B %d, want %d each (A %s, B %s)", len(ca), len(cb), want, states(ca), states(cb))
	}
	if want == 1 && (ca[0].spiIn != cb[0].spiOut || ca[0].spiOut != cb[0].spiIn) {
		b.t.Fatalf("the Child SAs do not pair: A in %08x out %08x, B in %08x out %08x", ca[0].spiIn, ca[0].spiOut, cb[0].spiIn, cb[0].spiOut)
	}
	if want == 1 && (ca[0].state != "INSTALLED" || cb[0].state != "INSTALLED") {
		b.t.Fatalf("Child SA states A %s, B %s, want INSTALLED", ca[0].state, cb[0].state)
	}
	ia, ib := b.ikeSAs(0), b.ikeSAs(1)
	if len(ia) != 1 || len(ib) != 1 || ia[0].spiI != ib[0].spiI || ia[0].spiR != ib[0].spiR {
		b.t.Fatalf("IKE SAs: A %d, B %d, want one shared", len(ia), len(ib))
	}
	if ia[0].initiator == ib[0].initiator {
		b.t.Fatal("both peers think they are the IKE SA's original initiator")
	}
}

// noIKE checks that neither peer has an IKE SA left.
func (b *rekeyBench) noIKE() {
	b.t.Helper()
	for i := range b.d {
		if n := len(b.ikeSAs(i)); n != 0 {
			b.t.Fatalf("peer %d still has %d IKE SAs", i, n)
		}
	}
}

// idle checks that neither peer has a request outstanding or queued.
func (b *rekeyBench) idle() {
	b.t.Helper()
	for i := range b.d {
		for _, sa := range b.ikeSAs(i) {
			if sa.outstanding != nil || len(sa.waiting) > 0 {
				b.t.Fatalf("peer %d: %s still has a request outstanding or queued", i, sa.name())
			}
		}
	}
}

func states(cs []*childSA) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name()+" "+c.state)
	}
	return out
}

// sent counts the messages peer i sent of exchange ex (requests or responses) that
// carry a notify of type n (0: any message).
func (b *rekeyBench) sent(i int, ex ExchangeType, response bool, n NotifyType) int {
	count := 0
	from := b.addr(i)
	for _, dg := range b.w.sent {
		m, err := Parse(dg.Data)
		if err != nil || dg.Local.Addr() != from || m.Exchange != ex || m.IsResponse() != response {
			continue
		}
		if n == 0 || b.carries(i, m, dg.Data, n) {
			count++
		}
	}
	return count
}

// carries says whether a message peer i sent carries a notify of type n: it is
// decrypted with the keys of the IKE SA it belongs to, as peer i reported them.
func (b *rekeyBench) carries(i int, m *Message, raw []byte, n NotifyType) bool {
	return notifyIn(innerPayloads(b.r[i].ikeUp, m, raw), n) != nil
}

// innerPayloads decrypts a message with the keys of the IKE SA it belongs to, among
// those an engine reported up, and returns what its SK payload holds (nil if none fits).
func innerPayloads(ups []*ike.IKESAInfo, m *Message, raw []byte) []Payload {
	for _, info := range ups {
		if info.SPIi != m.SPIi || info.SPIr != m.SPIr {
			continue
		}
		et, _ := pickTransform(info.Proposal, ike.TransformENCR)
		it, _ := pickTransform(info.Proposal, ike.TransformINTEG)
		sk := &SKCrypto{Encr: ike.Encr(et.ID), EncrKeyBits: et.KeyLen, Integ: ike.Integ(it.ID)}
		if m.Flags&FlagInitiator != 0 {
			sk.EncrKey, sk.IntegKey = info.SKei, info.SKai
		} else {
			sk.EncrKey, sk.IntegKey = info.SKer, info.SKar
		}
		c, err := Parse(raw)
		if err != nil || c.Decrypt(raw, sk) != nil {
			continue
		}
		if e, ok := encryptedOf(c); ok {
			return e.Inner
		}
	}
	return nil
}

// noFailures checks that neither peer reported a failure.
func (b *rekeyBench) noFailures() {
	b.t.Helper()
	for i := range b.r {
		if len(b.r[i].errors) > 0 {
			b.t.Fatalf("peer %d reported failures: %q", i, b.r[i].errors)
		}
	}
}
