package scenarios

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Loader benchmarks, reported as a ratio measured in the same run:
//
//	go test -run='^$' -bench='Load(1k|10k)Nodes' -benchtime=3x ./scenarios/
//
// BenchmarkLoad10kNodes / BenchmarkLoad1kNodes is how the loader's cost grows with the
// file: both load a file written out node by node, with a link, a connection on each
// side and a secret per road warrior, as a scenario written before groups and segments
// existed has it (10,000 road warriors make 220,000 lines: 10,003 nodes in one list,
// 10,001 keys under connections and 10,000 connections under the gateway). A loader
// linear in the file's size gives about 10. Each loads its file once before it is
// timed, so that both sizes run on a heap the runtime has grown already: a first load
// in a fresh process also pays the kernel for its fresh pages (at 10,000 road warriors
// some 150,000 page faults, a tenth of a second to half a second of system time, where
// 1,000 reuse pages the runs before them left).

// writtenOutRoadWarriors is a scenario of n road warriors on a router, one address of
// the router and one gateway connection per client.
func writtenOutRoadWarriors(n int) []byte {
	var b strings.Builder
	addr := func(i, host int) string {
		v := 4*i + host
		return fmt.Sprintf("172.%d.%d.%d", 16+v>>16, v>>8&255, v&255)
	}
	fmt.Fprintf(&b, "name: rw-%d\ntopology:\n  nodes:\n", n)
	b.WriteString("    - {name: server, kind: host, address: 10.0.0.10/24}\n")
	b.WriteString("    - {name: gw, kind: gateway, addresses: [10.0.0.1/24, 203.0.113.2/24]}\n")
	router := []string{"203.0.113.1/24"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {name: rw-%d, kind: host, address: %s/30}\n", i, addr(i, 2))
		router = append(router, addr(i, 1)+"/30")
	}
	fmt.Fprintf(&b, "    - {name: router, kind: router, addresses: [%s]}\n", strings.Join(router, ", "))
	b.WriteString("  links:\n    - {between: [server, gw]}\n    - {between: [gw, router], delay: 1ms}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {between: [rw-%d, router], delay: 5ms}\n", i)
	}
	b.WriteString("connections:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `  rw-%d:
    home:
      local_addrs: [%s]
      remote_addrs: [203.0.113.2]
      proposals: [aes128-sha256-x25519]
      local: {id: rw-%d.example}
      remote: {id: gw.example}
      children:
        net: {local_ts: [%s/32], remote_ts: [10.0.0.0/24], start_action: trigger}
`, i, addr(i, 2), i, addr(i, 2))
	}
	b.WriteString("  gw:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `    rw-%d:
      local_addrs: [203.0.113.2]
      proposals: [aes128-sha256-x25519]
      local: {id: gw.example}
      remote: {id: rw-%d.example}
      children:
        net: {local_ts: [10.0.0.0/24], remote_ts: [%s/32]}
`, i, i, addr(i, 2))
	}
	b.WriteString("secrets:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {ids: [rw-%d.example, gw.example], secret: s%d}\n", i, i)
	}
	b.WriteString("timeline:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {at: %dms, ping: {from: rw-%d, to: server}}\n", i%1000, i)
	}
	return []byte(b.String())
}

func benchmarkLoad(b *testing.B, n int) {
	data := writtenOutRoadWarriors(n)
	b.SetBytes(int64(len(data)))
	if _, err := Parse(data, "rw.yaml"); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	reportCPU(b, func() {
		for i := 0; i < b.N; i++ {
			s, err := Parse(data, "rw.yaml")
			if err != nil {
				b.Fatal(err)
			}
			if got := len(s.File.Topology.Nodes); got != n+3 {
				b.Fatalf("%d nodes, want %d", got, n+3)
			}
			if got := len(s.File.Connections["gw"]); got != n {
				b.Fatalf("%d connections on gw, want %d", got, n)
			}
		}
	})
}

func BenchmarkLoad1kNodes(b *testing.B)  { benchmarkLoad(b, 1000) }
func BenchmarkLoad10kNodes(b *testing.B) { benchmarkLoad(b, 10000) }

// reportCPU reports the process's CPU time (user and system, every thread: the
// garbage collector's too) per operation as cpu-ms/op, which a loaded machine disturbs
// less than the wall time.
func reportCPU(b *testing.B, f func()) {
	b.ReportMetric(float64(cpuTime(f))/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
