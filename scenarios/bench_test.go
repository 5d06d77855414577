package scenarios

// Benchmarks, reported as ratios against a baseline measured in the same run:
//
//	go test -run='^$' -bench='Handshake|X25519KeyExchanges' -benchtime=2000x ./scenarios/
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
// measures Go's default. BenchmarkHandshakeCryptoFloor is the part of the handshake's cost
// over its X25519 work that is cryptography the RFC asks for.

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
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
	defer func() { base.report(cpu) }()
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

// BenchmarkHandshakeCryptoFloor is the cryptography that the handshake of
// BenchmarkHandshakeX25519 must do besides X25519, on both sides, with its proposal
// (aes256gcm16-prfsha384-x25519, ESP aes256gcm16) and with the sizes of the messages
// that a run of it sends. Its x25519-pairs/op over the handshake's shows how much of the
// handshake's cost over its X25519 work is cryptography the RFC asks for, and so how
// low the handshake's ratio can go while it keeps it; the rest is the simulator's: the
// message codecs, the simulated network and the trace. Per handshake (RFC 7296):
//   - SKEYSEED = prf(Ni | Nr, g^ir) once on each side (Section 2.14);
//   - prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) for SK_d, SK_ei, SK_er, SK_pi and SK_pr on
//     each side, and prf+(SK_d, Ni | Nr) for the Child SA's two, one a direction (Section 2.17);
//   - on each side, prf(PSK, "Key Pad for IKEv2") once, then for its own AUTH and for
//     checking the peer's: prf(SK_p, ID body) and prf(padded key, signed octets: the
//     IKE_SA_INIT message, the peer's nonce and that MAC) (Section 2.15);
//   - eight AES-256-GCM keys: the IKE SA's two on each side and the Child SA's two ESP
//     SAs on each side; each IKE_AUTH message sealed once and opened once.
func BenchmarkHandshakeCryptoFloor(b *testing.B) {
	defer sim.TuneGC()()
	s, err := Parse([]byte(handshakeScenario), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	r := run(b, s, 1)
	// The lengths of the four IKE messages as sent, in the order sent.
	var sizes []int
	for i := range r.Sim.Trace.Events {
		if e := r.Sim.Trace.Events[i]; e.Kind == trace.KindMessage && e.Proto() == "ikev2" {
			sizes = append(sizes, len(e.Bytes()))
		}
	}
	if len(sizes) != 4 {
		b.Fatalf("%d IKEv2 messages, want IKE_SA_INIT and IKE_AUTH, each a request and a response", len(sizes))
	}
	initMsg := [2][]byte{make([]byte, sizes[0]), make([]byte, sizes[1])}
	authMsg := [2][]byte{make([]byte, sizes[2]), make([]byte, sizes[3])}

	prf := ike.PRF(ike.PRF_HMAC_SHA2_384)
	enc := ike.Encr(ike.ENCR_AES_GCM_16)
	keymat := enc.KeyBytes(256)
	const (
		nonce  = daemon.NonceSize
		spis   = 16
		idBody = 4 + len("a.example") // ID_FQDN: type, reserved, the name
		header = 28                   // the IKE header, authenticated but not encrypted
		skHead = 4 + 8                // the SK payload's header and IV
	)
	ikeKeys := 3*prf.Size + 2*keymat // SK_d, SK_pi, SK_pr; SK_ei, SK_er (no SK_a with an AEAD)
	childKeys := 2 * keymat          // the Child SA: a key for each of its two ESP SAs
	psk := []byte("bench")
	key := make([]byte, prf.Size)
	shared := make([]byte, 32)
	nonces := make([]byte, 2*nonce)
	seed := make([]byte, 2*nonce+spis)
	id := make([]byte, idBody)
	iv := make([]byte, 8)

	base := newBaseline(b)
	var cpu time.Duration
	defer func() { base.report(cpu) }()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%50 == 0 {
			b.StopTimer()
			base.sample(20)
			b.StartTimer()
		}
		cpu += cpuTime(func() {
			for side := 0; side < 2; side++ {
				prf.Sum(nonces, shared) // SKEYSEED
				ike.PRFPlus(prf, key, seed, ikeKeys)
				ike.PRFPlus(prf, key, nonces, childKeys)
				pad := prf.Sum(psk, []byte("Key Pad for IKEv2"))
				for _, m := range initMsg { // own AUTH and the peer's
					maced := prf.Sum(key, id)
					octets := append(append(append([]byte(nil), m...), nonces[:nonce]...), maced...)
					prf.Sum(pad, octets)
				}
				for k := 0; k < 4; k++ { // two for the IKE SA, two ESP SAs
					c, err := enc.New(key[:keymat])
					if err != nil {
						b.Fatal(err)
					}
					if k == 0 { // seal this side's IKE_AUTH message; the peer opens it
						m := authMsg[side]
						sealed := c.Seal(iv, m[header+skHead:len(m)-enc.ICVSize], m[:header+skHead])
						if _, err := c.Open(iv, sealed, m[:header+skHead]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

// report gives the CPU time of an operation over that of one X25519 key exchange,
// measured in the same run: steadier than wall-clock ratios on a loaded machine.
func (x *baseline) report(cpu time.Duration) {
	x.b.ReportMetric(float64(cpu)/float64(x.b.N)/float64(x.pair()), "x25519-pairs/op")
}
