package render_test

import (
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// variant runs a built-in scenario with its YAML text edited (each pair of edits: the
// text and its replacement), for failures no built-in shows.
func variant(t *testing.T, name string, edits ...string) *trace.Trace {
	t.Helper()
	b, err := os.ReadFile("../scenarios/builtin/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("%s: no %q to edit", name, edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	sc, err := scenarios.Parse([]byte(s), name+"-variant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := scenarios.Build(sc, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	run.Execute()
	return run.Sim.Trace
}

// TestNotesFollowWhatMessagesHold runs the failing labs, the EAP scenario and failures
// built here (a wrong EAP password, a Child SA refused in IKE_AUTH and in
// CREATE_CHILD_SA, an IKEv1 quick mode refused), and checks the note of every IKE
// message against the message's typed facts: a message that carries an error notify gets
// a note that names it, at the RFC section that says what follows, and never a note
// that claims success; a note that says a payload proves or accepts something needs the
// message to carry it. Every kind of failure and EAP step must be seen.
func TestNotesFollowWhatMessagesHold(t *testing.T) {
	// The RFC section that says what happens, by note (assets/explain/steps.txt).
	wantRef := map[string]string{
		"IKE_SA_INIT response INVALID_KE_PAYLOAD": "RFC 7296, Section 1.2",
		"IKE_SA_INIT request with another group":  "RFC 7296, Section 1.2",
		"IKE_SA_INIT response COOKIE":             "RFC 7296, Section 2.6",
		"IKE_SA_INIT request with COOKIE":         "RFC 7296, Section 2.6",
		"IKE_SA_INIT response error":              "RFC 7296, Section 2.21.1",
		"IKE_AUTH response error":                 "RFC 7296, Section 2.21.2",
		"IKE_AUTH response Child SA error":        "RFC 7296, Section 2.21.2",
		"IKE_AUTH request asking for EAP":         "RFC 7296, Section 2.16",
		"IKE_AUTH request EAP":                    "RFC 7296, Section 2.16",
		"IKE_AUTH response starting EAP":          "RFC 7296, Section 2.16",
		"IKE_AUTH response EAP":                   "RFC 7296, Section 2.16",
		"IKE_AUTH request after EAP":              "RFC 7296, Section 2.16",
		"IKE_AUTH response after EAP":             "RFC 7296, Section 2.16",
		"CREATE_CHILD_SA response error":          "RFC 7296, Section 1.3.1",
		"Informational error":                     "RFC 2408, Section 4.8",
		"IKE_AUTH response":                       "RFC 7296, Section 1.2",
		"IKE_SA_INIT response":                    "RFC 7296, Section 1.2",
	}
	// Words that say an exchange worked.
	success := []string{"picks one proposal", "computes SKEYSEED", "accepts the", "install", "completes the authentication"}
	traces := map[string]*trace.Trace{}
	for _, name := range []string{"lab-wrong-psk", "lab-invalid-ke", "lab-proposal-mismatch", "lab-ts-mismatch", "lab-cookie",
		"ikev2-eap-mschapv2-roadwarrior", "lab-wrong-psk-v1", "ikev2-ping"} {
		traces[name] = rendertest.Trace(t, name)
	}
	traces["eap-wrong-password"] = variant(t, "ikev2-eap-mschapv2-roadwarrior",
		`  - {type: eap, ids: [carol], secret: "Carol's passw0rd"}`,
		"  - {type: eap, ids: [carol], secret: \"Carol's passw0rd\", nodes: [vpn-gw]}\n"+
			"  - {type: eap, ids: [carol], secret: \"Carol's password\", nodes: [laptop]}")
	traces["child-refused"] = variant(t, "ikev2-ping", "esp_proposals: [3des-md5], mode: tunnel}", "esp_proposals: [aes256-sha256], mode: tunnel}")
	traces["ikev1-quick-refused"] = variant(t, "ikev1-main-quick", "esp_proposals: [aes192-md5]\n          mode: tunnel\n          life_time: 3600s\n          life_bytes: 4608000KB\n\nsecrets",
		"esp_proposals: [aes256-sha256]\n          mode: tunnel\n          life_time: 3600s\n          life_bytes: 4608000KB\n\nsecrets")

	seen := map[string]bool{}
	for name, tr := range traces {
		notes := render.MessageNotes(tr)
		for _, e := range tr.Events {
			if e.Kind != trace.KindMessage || !strings.HasPrefix(e.Proto(), "ike") {
				continue
			}
			x, ok := notes[e.Seq]
			at := name + " step " + strings.Join([]string{e.Exchange(), e.Summary()}, " ")
			has := func(p string) bool { return slices.Contains(e.Payloads(), p) }
			if len(e.Errors()) > 0 && !ok && e.Proto() == "ikev2" {
				t.Errorf("%s: carries N(%s) but has no note", at, e.Errors()[0])
			}
			if !ok {
				continue
			}
			seen[x.Key] = true
			if want, ok := wantRef[x.Key]; ok && x.Ref != want {
				t.Errorf("%s: note %q cites %s, want %s", at, x.Key, x.Ref, want)
			}
			if strings.ContainsAny(x.Text, "{}") {
				t.Errorf("%s: note with a placeholder left: %s", at, x.Text)
			}
			if len(e.Errors()) > 0 {
				if !strings.Contains(x.Text, "N("+e.Errors()[0]+")") {
					t.Errorf("%s: carries N(%s), but the note does not name it: %s", at, e.Errors()[0], x.Text)
				}
				for _, w := range success {
					if strings.Contains(x.Text, w) {
						t.Errorf("%s: carries N(%s), but the note claims success (%q): %s", at, e.Errors()[0], w, x.Text)
					}
				}
			}
			if e.Exchange() == "IKE_SA_INIT" && slices.Contains(e.Errors(), "INVALID_KE_PAYLOAD") && (e.Group() == "" || !strings.Contains(x.Text, e.Group())) {
				t.Errorf("%s: INVALID_KE_PAYLOAD asks for group %q, the note does not say so: %s", at, e.Group(), x.Text)
			}
			for claim, needs := range map[string][]string{
				"(IDi, AUTH)": {"IDi", "AUTH"}, "(IDr, AUTH)": {"IDr", "AUTH"}, "(SAr1)": {"SA"}, "(KEr)": {"KE"},
				"(SAr2, TSi, TSr)": {"SA", "TSi", "TSr"}, "(SAi2, TSi, TSr)": {"SA", "TSi", "TSr"}, "N(COOKIE)": nil,
			} {
				if !strings.Contains(x.Text, claim) {
					continue
				}
				for _, p := range needs {
					if !has(p) {
						t.Errorf("%s: the note speaks of %s, but the message has no %s payload: %s", at, claim, p, x.Text)
					}
				}
				if claim == "N(COOKIE)" && !slices.Contains(e.Notifies(), "COOKIE") {
					t.Errorf("%s: the note speaks of N(COOKIE), which the message does not carry", at)
				}
			}
			if strings.Contains(x.Text, "but no AUTH") && has("AUTH") {
				t.Errorf("%s: the note says no AUTH, but the message has one", at)
			}
		}
	}
	for k := range wantRef {
		if !seen[k] {
			t.Errorf("no message got the note %q", k)
		}
	}
}

// TestDetailsShowAUTHValues: the detail of gw-b's failure in lab-wrong-psk (the TUI's and
// the HTML's) shows the AUTH value received next to the one computed.
func TestDetailsShowAUTHValues(t *testing.T) {
	d := render.Build(rendertest.Trace(t, "lab-wrong-psk"), render.Options{})
	shown := 0
	for _, r := range d.Rows {
		if r.Kind != render.RowError || r.Event.Failure == nil || r.Event.Failure.Auth == nil {
			continue
		}
		a := r.Event.Failure.Auth
		lines := strings.Join(render.Details(r), "\n")
		for _, want := range []string{"AUTH received: " + hex.EncodeToString(a.Received), "AUTH computed here (psk): " + hex.EncodeToString(a.Computed)} {
			if !strings.Contains(lines, want) {
				t.Errorf("step %d: the detail lacks %q:\n%s", r.Step, want, lines)
			}
		}
		shown++
	}
	if shown == 0 {
		t.Error("no error row carries the AUTH values")
	}
}

// TestIKEv1HashExplanationFitsTheMethod: a phase 1 HASH is explained as authentication
// with a pre-shared key, from which SKEYID is made (SKEYID is not the key itself), and
// the scenario with signatures explains no field with a pre-shared key.
func TestIKEv1HashExplanationFitsTheMethod(t *testing.T) {
	var walk func(f *ike.Field, fn func(*ike.Field))
	walk = func(f *ike.Field, fn func(*ike.Field)) {
		if f == nil {
			return
		}
		fn(f)
		for _, c := range f.Children {
			walk(c, fn)
		}
	}
	hashes := 0
	for _, name := range []string{"ikev1-main-quick", "ikev1-aggressive", "ikev1-main-rsa"} {
		for _, e := range rendertest.Trace(t, name).Events {
			if e.Kind != trace.KindMessage || e.Proto() != "ikev1" {
				continue
			}
			phase1 := e.Exchange() == "Main Mode" || e.Exchange() == "Aggressive Mode"
			walk(e.Fields(), func(f *ike.Field) {
				if name == "ikev1-main-rsa" && strings.Contains(f.Explain, "pre-shared key") {
					t.Errorf("%s step %d: %s is explained with a pre-shared key: %s", name, e.Seq, f.Name, f.Explain)
				}
				if f.Name == "Hash Data" && phase1 {
					hashes++
					if !strings.Contains(f.Explain, "SKEYID = prf(pre-shared key, Ni_b | Nr_b)") {
						t.Errorf("%s step %d: the phase 1 HASH is not explained by its pre-shared key: %s", name, e.Seq, f.Explain)
					}
				}
			})
		}
	}
	if hashes == 0 {
		t.Error("no phase 1 HASH payload seen")
	}
}
