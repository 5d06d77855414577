package html

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/render/internal/rendertest"
	"github.com/ikesim/ikesim/render/layout"
)

func htmlPage(t testing.TB, name string) []byte {
	t.Helper()
	d := rendertest.Diagram(t, name, render.Options{})
	var b bytes.Buffer
	run := rendertest.Run(t, name)
	f := run.Scenario.File
	if err := Write(&b, d, Options{Options: layout.Options{Title: rendertest.Title(t, name), Notes: true}, Trace: run.Sim.Trace,
		Lab: &Lab{Description: f.Description, Hint: f.Hint, Solution: f.Solution}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden compares each scenario's page with testdata/<name>.html.golden (go test
// -update rewrites them). The golden page leaves out what other goldens hold or what
// only bulks it up: the fonts, the SVG (render/svg's goldens) and the JSON data,
// which it names by its SHA-256; ikev2-ping's data is golden in full.
func TestGolden(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			p := fontless(htmlPage(t, name))
			p = cut(t, p, "<svg ", "</svg>\n", true, func([]byte) string { return "<svg …/>\n" }) // the lane names
			p = cut(t, p, "<svg ", "</svg>\n", true, func([]byte) string { return "<svg …/>\n" }) // the diagram
			p = cut(t, p, `<script type="application/json" id="ikesim-data">`, "</script>", false, func(b []byte) string {
				if name == "ikev2-ping" {
					rendertest.Golden(t, name+".json.golden", b)
				}
				return fmt.Sprintf("%d bytes, SHA-256 %x", len(b), sha256.Sum256(b))
			})
			rendertest.Golden(t, name+".html.golden", p)
		})
	}
}

// cut replaces what lies between the first start and the next end in p; with
// whole, start and end go too.
func cut(t *testing.T, p []byte, start, end string, whole bool, with func([]byte) string) []byte {
	t.Helper()
	i := bytes.Index(p, []byte(start))
	if i < 0 {
		t.Fatalf("the page has no %q", start)
	}
	j := bytes.Index(p[i+len(start):], []byte(end))
	if j < 0 {
		t.Fatalf("the page has no %q after %q", end, start)
	}
	from, to := i+len(start), i+len(start)+j
	if whole {
		from, to = i, to+len(end)
	}
	return append(append(append([]byte(nil), p[:from]...), with(p[from:to])...), p[to:]...)
}

var fontData = regexp.MustCompile(`base64,[A-Za-z0-9+/=]+`)

func fontless(p []byte) []byte { return fontData.ReplaceAll(p, []byte("base64,…")) }

// TestSelfContained checks that the page loads nothing: no src, href, url() or import
// that leaves the file.
func TestSelfContained(t *testing.T) {
	for _, name := range rendertest.Scenarios() {
		p := string(fontless(htmlPage(t, name)))
		for _, bad := range []string{`src="http`, `href="http`, `href="//`, `url(http`, `url(//`, `@import`, `<link`, `<iframe`, `<img`, `fetch(`, `XMLHttpRequest`} {
			if strings.Contains(p, bad) {
				t.Errorf("%s: the page contains %q", name, bad)
			}
		}
		if !strings.Contains(p, `<use xlink:href="#ikg-`) || strings.Contains(p, "<text") {
			t.Errorf("%s: the diagram's text is not drawn as glyph outlines", name)
		}
	}
}

// TestEscaped checks that the lossy scenario's name, which holds markup, appears only
// escaped: as text in the title and heading, and \u-escaped inside the JSON.
func TestEscaped(t *testing.T) {
	p := string(htmlPage(t, rendertest.Lossy))
	raw := rendertest.Title(t, rendertest.Lossy)
	if !strings.Contains(raw, "</script>") || !strings.Contains(raw, "<b>") {
		t.Fatalf("the lossy scenario's name %q lost its markup", raw)
	}
	if n := strings.Count(p, "</script>"); n != 2 {
		t.Errorf("%d </script> in the page, want 2 (the data and the script)", n)
	}
	if strings.Contains(p, "<b>") {
		t.Errorf("the name's <b> reached the page unescaped")
	}
	if !strings.Contains(p, "<title>lossy &lt;b&gt;&amp;amp;&lt;/b&gt; &#34;quoted&#34; &#39;single&#39; &lt;/script&gt;</title>") {
		t.Errorf("the page title is not the escaped name")
	}
}

// TestDataHoldsDissections checks the JSON: every message, with bytes and fields,
// and the decrypted plaintext of IKE_AUTH.
func TestDataHoldsDissections(t *testing.T) {
	d := rendertest.Diagram(t, "ikev2-ping", render.Options{})
	b, err := Data(d, Options{Options: layout.Options{Title: "t"}, Trace: rendertest.Trace(t, "ikev2-ping")})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"n":"Identification - Initiator"`, `"n":"Decrypted payloads"`, `"p":"`, `"key":"Nonce"`, `"ref":"RFC 7296, Section 3.9"`,
		`"kind":"action"`, `"links":[{"step":`, `"cat":"e"`, `"nodes":[{"node":"host-a","views":[{"seq":1,"lines":["  no SAs"]}]},{"node":"gw-a"`,
		`"lines":["  IKE SA site-to-site[1]  CONNECTING (negotiating)"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the page data has no %s", want)
		}
	}
}

// TestLabGradedAsOfEachStep checks that the page keeps, for each expectation, the steps
// where its verdict changes, as the grading function gives them.
func TestLabGradedAsOfEachStep(t *testing.T) {
	tr := rendertest.Trace(t, "ikev2-ping")
	d := rendertest.Diagram(t, "ikev2-ping", render.Options{})
	upSeq := 0
	for _, e := range tr.Events {
		if e.Kind == "sa" && e.Op == "up" {
			upSeq = e.Seq
			break
		}
	}
	calls := 0
	b, err := Data(d, Options{Trace: tr, Lab: &Lab{Description: "d", Hint: "h", Solution: "s", Grade: func(upTo int) []Result {
		calls++
		return []Result{{Says: "an SA comes up", Check: "SA up", Seen: fmt.Sprint(upTo >= upSeq), Pass: upTo >= upSeq}}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Steps  []struct{ Seq int }
		Expect []struct {
			Says string
			At   []struct {
				Step int
				Pass bool
			}
		}
		Hint, Solution string
		Graded         bool
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Graded || p.Hint != "h" || p.Solution != "s" || len(p.Expect) != 1 || calls != len(p.Steps) {
		t.Fatalf("graded %v, hint %q, solution %q, %d expectations, %d gradings for %d steps", p.Graded, p.Hint, p.Solution, len(p.Expect), calls, len(p.Steps))
	}
	at := p.Expect[0].At
	if len(at) != 2 || at[0].Step != 0 || at[0].Pass || !at[1].Pass || p.Steps[at[1].Step].Seq < upSeq || p.Steps[at[1].Step-1].Seq >= upSeq {
		t.Errorf("the verdicts change at %+v, want FAIL from step 0 and PASS from the step of event %d", at, upSeq)
	}
}
