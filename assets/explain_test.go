package assets

import (
	"regexp"
	"strings"
	"testing"
)

var refPattern = regexp.MustCompile(`^RFC (768|791|792|2407|2408|2409|3602|3947|3948|4106|4301|4302|4303|4443|5282|7296|8200)(, (Section \d+(\.\d+)*|Appendix [A-Z]))?$`)

// TestExplanationsParse reads both files: every entry has a key, a reference in the
// form "RFC n, Section x.y" to one of the RFCs ikesim implements, and a sentence; no
// key appears twice in one section, and every field entry has a section.
func TestExplanationsParse(t *testing.T) {
	fields, err := Fields()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := Steps()
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) < 50 || len(steps) < 15 {
		t.Fatalf("%d field and %d step explanations", len(fields), len(steps))
	}
	for _, list := range [][]Explanation{fields, steps} {
		seen := map[string]bool{}
		for _, e := range list {
			if seen[e.Scope+"|"+e.Key] {
				t.Errorf("%q is explained twice in [%s]", e.Key, e.Scope)
			}
			seen[e.Scope+"|"+e.Key] = true
			if !refPattern.MatchString(e.Ref) {
				t.Errorf("%q: reference %q is not \"RFC n, Section x.y\"", e.Key, e.Ref)
			}
			if !strings.HasSuffix(e.Text, ".") || len(e.Text) < 20 {
				t.Errorf("%q: %q is not a sentence", e.Key, e.Text)
			}
		}
	}
}

// TestEveryPayloadExplained checks that each IKEv2 payload the dissector names (RFC
// 7296, Section 3.2's table) has an explanation under that name with its section.
func TestEveryPayloadExplained(t *testing.T) {
	fields, err := Fields()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Explanation{}
	for _, e := range fields {
		if e.Scope == "" {
			t.Errorf("%q has no section", e.Key)
		}
		if e.Scope != "ikev1" {
			byKey[e.Key] = e
		}
	}
	for name, want := range map[string]string{
		"IKE Header": "RFC 7296, Section 3.1", "Security Association": "RFC 7296, Section 3.3", "Key Exchange": "RFC 7296, Section 3.4",
		"Identification - Initiator": "RFC 7296, Section 3.5", "Identification - Responder": "RFC 7296, Section 3.5",
		"Certificate": "RFC 7296, Section 3.6", "Certificate Request": "RFC 7296, Section 3.7", "Authentication": "RFC 7296, Section 3.8",
		"Nonce": "RFC 7296, Section 3.9", "Notify": "RFC 7296, Section 3.10", "Delete": "RFC 7296, Section 3.11",
		"Vendor ID": "RFC 7296, Section 3.12", "Traffic Selector - Initiator": "RFC 7296, Section 3.13",
		"Traffic Selector - Responder": "RFC 7296, Section 3.13", "Encrypted and Authenticated": "RFC 7296, Section 3.14",
		"Configuration": "RFC 7296, Section 3.15", "Extensible Authentication": "RFC 7296, Section 3.16",
		"ESP": "RFC 4303, Section 2", "NAT-Keepalive": "RFC 3948, Section 2.3", "Non-ESP Marker": "RFC 3948, Section 2.2",
	} {
		e, ok := byKey[name]
		if !ok {
			t.Errorf("no explanation of %q", name)
			continue
		}
		if e.Ref != want {
			t.Errorf("%q cites %q, want %q", name, e.Ref, want)
		}
	}
}

// TestStepsTheModelAsksFor checks that every kind of message render's model asks a
// note for is in steps.txt.
func TestStepsTheModelAsksFor(t *testing.T) {
	for _, k := range []string{"IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "CREATE_CHILD_SA rekey Child SA", "CREATE_CHILD_SA rekey IKE SA",
		"INFORMATIONAL", "INFORMATIONAL liveness", "INFORMATIONAL delete"} {
		for _, dir := range []string{" request", " response"} {
			if _, ok := Step(k + dir); !ok {
				t.Errorf("no step %q", k+dir)
			}
		}
	}
	for _, k := range []string{"ESP", "ESP in UDP", "NAT-keepalive", "IP"} {
		if _, ok := Step(k); !ok {
			t.Errorf("no step %q", k)
		}
	}
	if _, ok := Step("no such step"); ok {
		t.Errorf("an unknown step was found")
	}
}

func TestWebFiles(t *testing.T) {
	for _, name := range []string{"view.html", "view.css", "view.js"} {
		b, err := Web(name)
		if err != nil || len(b) < 100 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	if _, err := Web("../explain/fields.txt"); err == nil {
		t.Errorf("Web reads outside web/")
	}
}

// TestCorrectedEntries pins entries that once said something wrong.
func TestCorrectedEntries(t *testing.T) {
	fields, err := Fields()
	if err != nil {
		t.Fatal(err)
	}
	get := func(scope, key string) string {
		for _, e := range fields {
			if e.Scope == scope && e.Key == key {
				return e.Text
			}
		}
		t.Fatalf("no [%s] %q", scope, key)
		return ""
	}
	for _, c := range []struct{ scope, key, want string }{
		{"ikev2", "Auth Method", "(14, RFC 7427)"},
		{"ikev2", "Auth Method", "(9, 10, 11, RFC 4754)"},
		{"ikev2", "Encrypted and Authenticated > Next Payload", "first payload inside the encrypted data"},
		{"ikev2", "Encrypted and Authenticated", "no SK_a exists"},
		{"ikev1", "Flags > Commit", "must wait for an Informational exchange with a CONNECTED notification from the sender"},
		{"ikev1", "NAT Original Address", "the second the responder's"},
		{"ikev1", "Decrypted payloads", "no integrity checksum"},
	} {
		if got := get(c.scope, c.key); !strings.Contains(got, c.want) {
			t.Errorf("[%s] %q says %q, want it to say %q", c.scope, c.key, got, c.want)
		}
	}
}
