package render_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/sim/trace"
)

// actions are the action texts of a built-in scenario, found by the events' kind.
func actions(t *testing.T, name string) []string {
	var out []string
	for _, e := range rendertest.Trace(t, name).Events {
		if e.Kind == trace.KindAction {
			out = append(out, e.Text)
		}
	}
	return out
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestNarrationSaysWhatHappened checks statements that were wrong: each scenario's
// narration must say what its run did.
func TestNarrationSaysWhatHappened(t *testing.T) {
	for _, c := range []struct {
		scenario  string
		want, not []string
		whyWrong  string
	}{
		{"ikev1-main-rsa", []string{"Main mode with signatures: no pre-shared key"}, []string{"finds the pre-shared key"},
			"signatures need no pre-shared key"},
		{"ikev1-main-quick", []string{"finds the pre-shared key by the peer's address"}, nil, ""},
		{"ikev2-nat", []string{"now sends to our port 4500"}, []string{"The peer moved to"},
			"the peer did not move: it sends to this node's port 4500 (RFC 7296, Section 2.23)"},
		{"ikev2-modern", []string{"its Child SAs already moved to the new one", "no SK_a", "AEAD key with its salt"},
			[]string{"SK_ai", "encryption and integrity keys"},
			"after an IKE SA rekey the Child SAs belong to the new IKE SA; AES-GCM has no integrity key"},
		{"ikev2-eap-mschapv2-roadwarrior", []string{"ChallengeHash", "MD4(MD4(password))"}, nil,
			"the NT-Response encrypts the ChallengeHash; the MSK comes from the double MD4"},
	} {
		as := actions(t, c.scenario)
		for _, w := range c.want {
			if !anyContains(as, w) {
				t.Errorf("%s: no action says %q", c.scenario, w)
			}
		}
		for _, n := range c.not {
			if anyContains(as, n) {
				t.Errorf("%s: an action says %q, but %s", c.scenario, n, c.whyWrong)
			}
		}
	}
	desc := map[string]string{}
	for _, n := range []string{"ikev1-main-rsa", "ikev1-aggressive", "lab-transport", "lab-wrong-psk"} {
		f := rendertest.Run(t, n).Scenario.File
		desc[n] = f.Description + "\n" + f.Solution
	}
	if strings.Contains(desc["ikev1-main-rsa"], "no shared secret") || !strings.Contains(desc["ikev1-main-rsa"], "no pre-shared key") {
		t.Errorf("ikev1-main-rsa must say that no pre-shared key goes into the keys:\n%s", desc["ikev1-main-rsa"])
	}
	if strings.Contains(desc["ikev1-aggressive"], "Only the third message (HASH_I) is encrypted") {
		t.Errorf("ikev1-aggressive presents encrypting HASH_I as the RFC's:\n%s", desc["ikev1-aggressive"])
	}
	if strings.Contains(desc["lab-transport"], "20 bytes smaller") || !strings.Contains(desc["lab-transport"], "16 bytes less") {
		t.Errorf("lab-transport: with AES-CBC the packet is 16 bytes smaller (108 against 124):\n%s", desc["lab-transport"])
	}
	if f := rendertest.Run(t, "lab-wrong-psk").Scenario.File; strings.Contains(f.Description, "different pre-shared keys") || f.Hint == "" || f.Solution == "" {
		t.Errorf("lab-wrong-psk gives its answer away or lacks a hint and a solution:\n%s", f.Description)
	}
}

// TestGCMFieldNotes checks that the ICV of an AES-GCM SK payload is explained as the
// cipher's tag, without SK_a.
func TestGCMFieldNotes(t *testing.T) {
	n := 0
	for _, e := range rendertest.Trace(t, "ikev2-modern").Events {
		if e.Kind != trace.KindMessage || e.Proto() != "ikev2" || e.Fields() == nil {
			continue
		}
		var walk func(f *ike.Field)
		walk = func(f *ike.Field) {
			if f.Name == "Integrity Checksum Data" {
				n++
				if strings.Contains(f.Explain, "MAC with SK_a") || !strings.Contains(f.Explain, "no SK_a") {
					t.Errorf("event %d: the GCM ICV is explained as %q", e.Seq, f.Explain)
				}
			}
			for _, c := range f.Children {
				walk(c)
			}
		}
		walk(e.Fields())
	}
	if n == 0 {
		t.Fatal("ikev2-modern has no SK payload")
	}
}

// TestFailedAuthShowsBothValues checks lab-wrong-psk: when gw-b's check of AUTH fails,
// the trace says what gw-b received, which is the Authentication Data of gw-a's
// request, next to the value gw-b computed, and never a pre-shared key.
func TestFailedAuthShowsBothValues(t *testing.T) {
	run := rendertest.Run(t, "lab-wrong-psk")
	var sent []string
	var said []string
	for _, e := range run.Sim.Trace.Events {
		switch {
		case e.Kind == trace.KindMessage && e.Exchange() == "IKE_AUTH" && !e.Response() && e.Fields() != nil:
			if f := e.Fields().Find("Authentication Data"); f != nil {
				sent = append(sent, strings.TrimSuffix(f.Value, "..."))
			}
		case e.Kind == trace.KindAction && e.Node == "gw-b" && strings.HasPrefix(e.Text, "AUTH received"):
			said = append(said, e.Text)
		}
		if e.Text != "" {
			for _, s := range run.Scenario.File.Secrets {
				if strings.Contains(e.Text, s.Secret) || strings.Contains(e.Text, fmt.Sprintf("%x", s.Secret)) {
					t.Errorf("event %d gives a pre-shared key away: %s", e.Seq, e.Text)
				}
			}
		}
	}
	if len(said) == 0 || len(sent) == 0 {
		t.Fatalf("%d AUTH payloads sent, %d mismatches told", len(sent), len(said))
	}
	for i, s := range said {
		recv, computed, ok := strings.Cut(strings.TrimPrefix(s, "AUTH received from the initiator: "), "; AUTH we computed with our pre-shared key: ")
		if !ok || i >= len(sent) || !strings.HasPrefix(recv, sent[i]) || len(strings.TrimSuffix(computed, "; they differ")) != len(recv) {
			t.Errorf("the mismatch %q does not show the AUTH data sent (%s) beside a value as long", s, sent[min(i, len(sent)-1)])
		}
	}
}
