package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// exportImport runs a scenario, writes its pcap and key tables, and imports them back.
func exportImport(t *testing.T, scenario string) (simulated, imported *trace.Trace) {
	t.Helper()
	r, err := simulate(scenario, &seedFlag{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pcap, keys := filepath.Join(dir, "x.pcap"), filepath.Join(dir, "keys")
	if _, err := ikesim(t, "pcap", scenario, "-o", pcap, "--keys", keys); err != nil {
		t.Fatal(err)
	}
	k, err := sim.ReadKeyDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := sim.Import(f, sim.ImportOptions{Keys: k})
	if err != nil {
		t.Fatal(err)
	}
	return r.Sim.Trace, tr
}

// ikeMessages lists the IKE messages of a trace as "exchange request|response".
func ikeMessages(tr *trace.Trace) []string {
	var out []string
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && !e.Forwarded && strings.HasPrefix(e.Proto, "ike") && e.Exchange != "" {
			out = append(out, fmt.Sprintf("%s %s %s", e.Proto, e.Exchange, map[bool]string{false: "request", true: "response"}[e.Response]))
		}
	}
	return out
}

// TestImportLabelsRequestsByExchange: an imported trace calls each IKE message a request
// or a response as the engines that sent it did. In IKEv1 that comes from the exchange,
// not from the sender's role: the gateway's XAUTH CFG_REQUEST and CFG_SET are requests.
func TestImportLabelsRequestsByExchange(t *testing.T) {
	for _, scenario := range []string{"ikev1-xauth-modecfg", "ikev1-main-quick", "ikev1-nat-dpd", "ikev2-ping", "ikev2-fragmentation"} {
		t.Run(scenario, func(t *testing.T) {
			simulated, imported := exportImport(t, scenario)
			want, got := ikeMessages(simulated), ikeMessages(imported)
			if len(want) == 0 || strings.Join(want, "\n") != strings.Join(got, "\n") {
				t.Errorf("the imported messages differ from the simulated ones:\nimported:\n%s\nsimulated:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestImportReassemblesFragments: the IKE_AUTH of the RFC 7383 scenario, exported as SKF
// fragments, comes back whole on its last fragment: the payloads in the summary and the
// decrypted, reassembled payloads in the dissection.
func TestImportReassemblesFragments(t *testing.T) {
	_, tr := exportImport(t, "ikev2-fragmentation")
	var last []*trace.Event
	for _, e := range tr.Events {
		if e.Exchange == "IKE_AUTH" {
			last = append(last, e)
		}
	}
	if len(last) != 4 {
		t.Fatalf("%d IKE_AUTH datagrams, want 2 fragments each way", len(last))
	}
	for i, want := range []string{"HDR, SKF(1/2)", "HDR, SKF(2/2) {IDi, CERT, CERTREQ, IDr, AUTH, SAi2, TSi, TSr}",
		"HDR, SKF(1/2)", "HDR, SKF(2/2) {IDr, CERT, AUTH, SAr2, TSi, TSr}"} {
		if last[i].Summary != want {
			t.Errorf("IKE_AUTH datagram %d: %q, want %q", i+1, last[i].Summary, want)
		}
	}
	// The facts as data: a fragment's payloads, and on the last one the whole message's.
	for i, want := range []string{"SKF", "SK IDi CERT CERTREQ IDr AUTH SA TSi TSr", "SKF", "SK IDr CERT AUTH SA TSi TSr"} {
		if got := strings.Join(last[i].Payloads, " "); got != want {
			t.Errorf("IKE_AUTH datagram %d has payloads %q, want %q", i+1, got, want)
		}
	}
	var reassembled *ike.Field
	last[1].Fields().Walk(func(f *ike.Field, _ int) {
		if f.Name == "Reassembled payloads" {
			reassembled = f
		}
	})
	if reassembled == nil {
		t.Fatal("the last fragment's dissection has no reassembled payloads")
	}
	var names []string
	reassembled.Walk(func(f *ike.Field, depth int) {
		if depth == 1 {
			names = append(names, f.Name)
		}
	})
	joined := strings.Join(names, ", ")
	for _, want := range []string{"Identification - Initiator", "Certificate", "Authentication", "Traffic Selector - Initiator"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the reassembled payloads %q lack %s", joined, want)
		}
	}
}
