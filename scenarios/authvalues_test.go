package scenarios

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim/trace"
)

// findField returns the first field of a dissection with this name, depth first.
func findField(f *ike.Field, name string) *ike.Field {
	if f == nil {
		return nil
	}
	if f.Name == name {
		return f
	}
	for _, c := range f.Children {
		if x := findField(c, name); x != nil {
			return x
		}
	}
	return nil
}

// authFailures are the error events of a trace that carry the values that did not
// verify.
func authFailures(tr *trace.Trace) []*trace.Event {
	var out []*trace.Event
	for _, e := range tr.Events {
		if e.Kind == trace.KindError && e.Failure != nil && e.Failure.Auth != nil {
			out = append(out, e)
		}
	}
	return out
}

// TestWrongPSKRecordsBothAUTHValues: in lab-wrong-psk, gw-b's failure carries the AUTH
// value it received (the one in gw-a's IKE_AUTH request) next to the one it computed
// with its own key, as typed fields; the grade shows them; neither key appears anywhere
// in the trace.
func TestWrongPSKRecordsBothAUTHValues(t *testing.T) {
	s, err := Load("lab-wrong-psk")
	if err != nil {
		t.Fatal(err)
	}
	tr := run(t, s, s.Seed).Sim.Trace
	fails := authFailures(tr)
	if len(fails) == 0 {
		t.Fatal("no failure carries the AUTH values")
	}
	var sent []string // the AUTH data of gw-a's IKE_AUTH requests, in order
	for _, e := range tr.Events {
		if e.Kind == trace.KindMessage && e.Exchange() == "IKE_AUTH" && e.From() == "gw-a" && !e.Response() && !e.Retransmit() {
			if f := findField(e.Fields(), "Authentication Data"); f != nil {
				sent = append(sent, f.Value)
			}
		}
	}
	for i, e := range fails {
		a := e.Failure.Auth
		if e.Node != "gw-b" || a.Payload != "AUTH" || a.Method != "psk" || e.Failure.Notify != "AUTHENTICATION_FAILED" {
			t.Errorf("failure %d: node %s, %+v, notify %s; want gw-b's AUTH with psk and AUTHENTICATION_FAILED", i, e.Node, a, e.Failure.Notify)
		}
		if len(a.Received) != 32 || len(a.Computed) != 32 || bytes.Equal(a.Received, a.Computed) {
			t.Errorf("failure %d: received %x, computed %x: want two different 32-byte values (PRF HMAC-SHA2-256)", i, a.Received, a.Computed)
		}
		if i < len(sent) && hex.EncodeToString(a.Received) != sent[i] {
			t.Errorf("failure %d: received %x, but gw-a sent AUTH data %s", i, a.Received, sent[i])
		}
	}
	if len(sent) != len(fails) {
		t.Errorf("%d IKE_AUTH requests from gw-a, %d failures with AUTH values", len(sent), len(fails))
	}
	var js bytes.Buffer
	if err := tr.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"correct horse battery staple", "correct horse battery stable"} {
		if bytes.Contains(js.Bytes(), []byte(key)) || bytes.Contains(js.Bytes(), []byte(hex.EncodeToString([]byte(key)))) {
			t.Errorf("the trace holds the pre-shared key %q", key)
		}
	}
	res := Grade(s, tr)
	if !strings.Contains(res[0].Seen, "gw-b received AUTH "+hex.EncodeToString(fails[0].Failure.Auth.Received)) ||
		!strings.Contains(res[0].Seen, "computed "+hex.EncodeToString(fails[0].Failure.Auth.Computed)) {
		t.Errorf("the failed IKE SA's grade does not show the two AUTH values: %s", res[0].Seen)
	}
}

// TestIKEv1HashMismatchRecorded: aggressive mode with different pre-shared keys fails
// at the initiator's check of HASH_R (message 2, in clear), and the failure carries
// HASH_R as received and as computed.
func TestIKEv1HashMismatchRecorded(t *testing.T) {
	b, err := os.ReadFile("builtin/ikev1-aggressive.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := `  - {type: ike, ids: [r3.example.com, r2.example.com], secret: "cisco123"}`
	if !bytes.Contains(b, []byte(old)) {
		t.Fatal("ikev1-aggressive's secret line changed")
	}
	b = bytes.Replace(b, []byte(old), []byte(old[:len(old)-1]+`, nodes: [R2]}`+"\n"+
		`  - {type: ike, ids: [r3.example.com, r2.example.com], secret: "cisco321", nodes: [R3]}`), 1)
	s, err := Parse(b, "ikev1-aggressive-wrong-psk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fails := authFailures(run(t, s, s.Seed).Sim.Trace)
	if len(fails) == 0 {
		t.Fatal("no failure carries the HASH values")
	}
	for _, e := range fails {
		a := e.Failure.Auth
		if e.Node != "R3" || a.Payload != "HASH_R" || a.Method != "psk" {
			t.Errorf("%s: %+v; want R3's HASH_R with psk", e.Node, a)
		}
		if len(a.Received) == 0 || len(a.Received) != len(a.Computed) || bytes.Equal(a.Received, a.Computed) {
			t.Errorf("received %x, computed %x: want two different values of one length", a.Received, a.Computed)
		}
	}
}
