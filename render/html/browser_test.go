package html

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ikesim/ikesim/ike/testenv"
)

// TestBrowserClickIKEAuth opens the page of ikev2-ping in headless Chromium (Debian's
// chromium package, installed when missing), clicks the IKE_AUTH request, and checks
// that the panel shows IDi and AUTH and, under the decrypted SK payload, the SA and
// traffic selector payloads; then that clicking IDi highlights its bytes in the
// decrypted dump, that the arrow key moves to the next message, and takes a
// screenshot.
func TestBrowserClickIKEAuth(t *testing.T) {
	chromium := testenv.Tool(t, "chromium", "chromium")
	dir := t.TempDir()
	file := filepath.Join(dir, "ikev2-ping.html")
	if err := os.WriteFile(file, htmlPage(t, "ikev2-ping"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1600, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	do(chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS("#diagram svg g.msg")))
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#diagram g.msg')].find(g => g.querySelector('title').textContent.startsWith('IKE_AUTH request')).id`))
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.ScrollIntoView(chromedp.CSS("#"+id)),
		chromedp.Click(chromedp.CSS("#"+id+" rect.hit")),
		chromedp.WaitVisible(chromedp.CSS("#panel")))
	title, tree, decrypted, decHex := text("#p-title"), text("#p-tree"), text("#p-tree li.dec"), text("#p-dec")
	decShort, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#p-tree li.dec > ul > li > .row')].map(r => r.dataset.short || r.dataset.name)`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(title, "IKE_AUTH request") {
		t.Fatalf("the panel shows %q, want the IKE_AUTH request", title)
	}
	for _, want := range []string{"IDi", "Identification - Initiator", "AUTH", "Authentication", "Encrypted and Authenticated"} {
		if !strings.Contains(tree, want) {
			t.Errorf("the field panel does not show %q:\n%s", want, tree)
		}
	}
	for _, want := range []string{"IDi", "IDr", "AUTH", "SA", "TSi", "TSr"} {
		if !slices.Contains(decShort, want) {
			t.Errorf("the decrypted payloads are %q, want %s among them", decShort, want)
		}
	}
	if !strings.Contains(decrypted, "Security Association") || !strings.Contains(decrypted, "Traffic Selector - Responder") {
		t.Errorf("the decrypted subtree does not show the SA and TS payloads:\n%s", decrypted)
	}
	if len(strings.Fields(decHex)) < 10 {
		t.Errorf("the decrypted dump is empty: %q", decHex)
	}

	// Clicking IDi highlights its 20 bytes (the payload) in the decrypted dump.
	do(chromedp.Click(chromedp.CSS(`#p-tree li.dec .row[data-short="IDi"]`)))
	on, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#p-dec .b.on').length`))
	if err != nil {
		t.Fatal(err)
	}
	if on != 20 {
		t.Errorf("IDi highlights %d bytes of the decrypted payload, want 20", on)
	}
	if explain := text("#p-explain"); !strings.Contains(explain, "RFC 7296, Section 3.5") {
		t.Errorf("the explanation of IDi does not cite RFC 7296, Section 3.5: %q", explain)
	}

	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.KeyEvent(kb.ArrowDown))
	if next := text("#p-title"); !strings.HasPrefix(next, "IKE_AUTH response") {
		t.Errorf("after the down arrow the panel shows %q, want the IKE_AUTH response", next)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
		t.Errorf("the screenshot is %v", b)
	}
	out := filepath.Join(os.TempDir(), "ikesim-html-ikev2-ping.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}
