package scenarios

// Benchmarks, reported as ratios against a baseline measured in the same run:
//
//	go test -run='^$' -bench='Handshake|X25519KeyExchanges' -benchtime=200x ./scenarios/
//
// BenchmarkHandshakeX25519 / BenchmarkX25519KeyExchanges is what a whole simulated IKEv2
// handshake (IKE_SA_INIT and IKE_AUTH with a Child SA: every message built, encrypted,
// sent across a link, decrypted and recorded in the trace, the SAs installed) costs over
// its bare Diffie-Hellman work: two X25519 key generations and two shared-secret
// computations. Building the topology is set up outside the timed part; dissections are
// made when someone reads the trace, so they are not part of it either. The handshake
// also reports x25519-pairs/op: the same ratio in CPU time, against X25519 key exchanges
// sampled all through the run, with the timer stopped (see baseline). It sets the
// garbage collector as the ikesim command does (sim.TuneGC); GOGC=100 in the environment
// measures Go's default.

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

const handshakeScenario = `
name: bench-handshake
duration: 5s
topology:
  nodes:
    - {name: a, kind: gateway, address: 192.0.2.1/24}
    - {name: b, kind: gateway, address: 192.0.2.2/24}
  links:
    - {between: [a, b], delay: 5ms}
connections:
  a:
    c:
      local_addrs: [192.0.2.1]
      remote_addrs: [192.0.2.2]
      proposals: [aes256gcm16-prfsha384-x25519]
      local: {id: a.example}
      remote: {id: b.example}
      children:
        net: {local_ts: [10.1.0.0/24], remote_ts: [10.2.0.0/24], esp_proposals: [aes256gcm16], start_action: start}
  b:
    c:
      local_addrs: [192.0.2.2]
      remote_addrs: [192.0.2.1]
      proposals: [aes256gcm16-prfsha384-x25519]
      local: {id: b.example}
      remote: {id: a.example}
      children:
        net: {local_ts: [10.2.0.0/24], remote_ts: [10.1.0.0/24], esp_proposals: [aes256gcm16]}
secrets:
  - {ids: [a.example, b.example], secret: bench}
`

func BenchmarkHandshakeX25519(b *testing.B) {
	defer sim.TuneGC()()
	s, err := Parse([]byte(handshakeScenario), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	// Building the topology is not part of the handshake: networks are built in batches
	// outside the timer (stopping the timer per run would cost more than it hides), and
	// the baseline is sampled there too.
	const batch = 50
	runs := make([]*Run, 0, batch)
	base := newBaseline(b)
	var cpu time.Duration
	defer func() {
		// The CPU time of a handshake over that of one X25519 key exchange, measured
		// here: steadier than wall-clock ratios on a loaded machine.
		b.ReportMetric(float64(cpu)/float64(b.N)/float64(base.pair()), "x25519-pairs/op")
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(runs) == 0 {
			b.StopTimer()
			base.sample(20)
			for j := 0; j < batch; j++ {
				r, err := Build(s, uint64(i+j))
				if err != nil {
					b.Fatal(err)
				}
				runs = append(runs, r)
			}
			b.StartTimer()
		}
		r := runs[len(runs)-1]
		runs = runs[:len(runs)-1]
		cpu += cpuTime(r.Execute)
		if n := countUp(r.Sim.Trace); n != 4 {
			b.Fatalf("%d SAs up, want 2 IKE and 2 Child", n)
		}
	}
}

func countUp(tr *trace.Trace) int {
	n := 0
	for _, e := range tr.Events {
		if e.Kind == trace.KindSA && e.Op == "up" {
			n++
		}
	}
	return n
}

func BenchmarkX25519KeyExchanges(b *testing.B) {
	for i := 0; i < b.N; i++ {
		x25519Pair(b, i)
	}
}

// x25519Pair is one X25519 key exchange: two key generations, two shared secrets.
func x25519Pair(b *testing.B, i int) {
	g := ike.DH(ike.Curve25519)
	r := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)})
	x, err := g.Generate(r)
	if err != nil {
		b.Fatal(err)
	}
	y, err := g.Generate(r)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := x.Shared(y.Public()); err != nil {
		b.Fatal(err)
	}
	if _, err := y.Shared(x.Public()); err != nil {
		b.Fatal(err)
	}
}
