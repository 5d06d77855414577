package ikev2_test

// Benchmarks of a responder under a flood of IKE_SA_INIT requests, reported as ratios
// against a baseline measured in the same run:
//
//	go test -run='^$' -bench='IKESAInit|Cookie' ./ike/ikev2/
//
// BenchmarkIKESAInit10000HalfOpen / BenchmarkIKESAInit100HalfOpen is what one new
// IKE_SA_INIT request costs with 10,000 IKE SAs half-open against 100 (target 1.5 at the
// most): the SA table must not grow slower with its size. BenchmarkCookie100HalfOpen /
// BenchmarkIKESAInit100HalfOpen is what answering with a COOKIE costs against a full
// response with its Diffie-Hellman work (target 0.1 at the most). Every request is a
// whole datagram through Daemon.HandleDatagram, with x25519, the cheapest group; the
// IKE SA a full response makes times out right after, so the count stays put.

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/iketest"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ike/ikev2/ikev2test"
)

func BenchmarkIKESAInit100HalfOpen(b *testing.B)   { benchIKESAInit(b, 100, ike.Limits{}) }
func BenchmarkIKESAInit10000HalfOpen(b *testing.B) { benchIKESAInit(b, 10000, ike.Limits{}) }
func BenchmarkCookie100HalfOpen(b *testing.B) {
	benchIKESAInit(b, 100, ike.Limits{CookieThreshold: 100})
}

// benchIKESAInit answers IKE_SA_INIT requests from new addresses while halfOpen IKE SAs
// are half-open, under limits.
func benchIKESAInit(b *testing.B, halfOpen int, limits ike.Limits) {
	c, err := ikev2test.PSKConn(victim, attacker, psk, ikeProp, espProp)
	if err != nil {
		b.Fatal(err)
	}
	c.RemoteAddrs = nil
	c.Limits = &limits
	clock := &benchClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d, err := ikev2.New(ike.Env{Transport: iketest.Discard{}, Clock: clock, Rand: rand.NewChaCha8([32]byte{1}), Observer: iketest.Discard{}},
		victim, []*ike.Connection{c})
	if err != nil {
		b.Fatal(err)
	}
	req := newFlood(b)
	for i := range halfOpen {
		d.HandleDatagram(victimPort, req.from(i), req.next())
	}
	if total, _ := d.HalfOpen(netip.Addr{}); total != halfOpen {
		b.Fatalf("%d IKE SAs half-open, want %d", total, halfOpen)
	}
	clock.timeouts = nil // those stay half-open
	i := halfOpen
	for b.Loop() {
		d.HandleDatagram(victimPort, req.from(i), req.next())
		i++
		clock.expire() // the new IKE SA times out: halfOpen stay
	}
	if total, _ := d.HalfOpen(netip.Addr{}); total != halfOpen {
		b.Fatalf("%d IKE SAs half-open after the run, want %d", total, halfOpen)
	}
}

// flood makes IKE_SA_INIT requests that differ in SPIi and come from many addresses.
type flood struct {
	msg ikev2.Message
	spi uint64
}

func newFlood(b *testing.B) *flood {
	priv, err := ike.DH(ike.Curve25519).Generate(rand.NewChaCha8([32]byte{2}))
	if err != nil {
		b.Fatal(err)
	}
	p := ikev2.MustProposal(b, ikeProp, ike.ProtoIKE)
	ni := make([]byte, 32)
	return &flood{msg: ikev2.Message{Header: ikev2.Header{Exchange: ikev2.IKE_SA_INIT, Flags: ikev2.FlagInitiator},
		Payloads: []ikev2.Payload{ikev2.NewSA(nil, p), &ikev2.KE{Group: ike.Curve25519, Data: priv.Public()}, &ikev2.Nonce{Data: ni}}}}
}

// next is the next request, with a new SPIi.
func (f *flood) next() []byte {
	f.spi++
	f.msg.SPIi = f.spi
	raw, err := f.msg.Marshal(nil, nil)
	if err != nil {
		panic(err)
	}
	return raw
}

// from is the i-th source address, in 10.0.0.0/8.
func (*flood) from(i int) netip.AddrPort {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 10<<24|uint32(i+1))
	return netip.AddrPortFrom(netip.AddrFrom4(a), 500)
}

// benchClock never fires a timer by itself; expire fires the half-open timeouts set
// since the last call.
type benchClock struct {
	now      time.Time
	timeouts []func()
}

type noTimer struct{}

func (noTimer) Stop() bool { return true }

func (c *benchClock) Now() time.Time { return c.now }
func (c *benchClock) AfterFunc(_ time.Duration, name string, f func()) ike.Timer {
	if name == "IKE_SA_INIT half-open timeout" {
		c.timeouts = append(c.timeouts, f)
	}
	return noTimer{}
}

func (c *benchClock) expire() {
	for _, f := range c.timeouts {
		f()
	}
	c.timeouts = c.timeouts[:0]
}
