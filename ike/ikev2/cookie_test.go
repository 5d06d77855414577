package ikev2

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// TestCookieSecretRotates: a secret makes cookies for 120 s, then a new one is drawn;
// cookies of the old one stay good for 10 s more (RFC 7296, Section 2.6), and every
// cookie binds Ni, the initiator's address and SPIi.
func TestCookieSecretRotates(t *testing.T) {
	p := []string{"aes128-sha256-x25519"}
	w := newWorld(t)
	d, rec := w.add(ipB, conn(t, ipB, ipA, p, []string{"aes128-sha256"}, "k"), 2)
	ni := bytes.Repeat([]byte{1}, 32)
	from := netip.MustParseAddrPort(ipA + ":500")
	valid := func(c []byte, ni []byte, from netip.AddrPort, spi uint64) bool {
		return d.cookieValid(&Notify{Type: COOKIE, Data: c}, ni, from, spi)
	}
	c1 := d.cookieFor(ni, from, 7)
	if c1[0] != 1 || !valid(c1, ni, from, 7) {
		t.Fatalf("first cookie %x does not verify", c1)
	}
	for _, bad := range []struct {
		ni   []byte
		from netip.AddrPort
		spi  uint64
	}{{bytes.Repeat([]byte{2}, 32), from, 7}, {ni, netip.MustParseAddrPort("192.0.2.9:500"), 7}, {ni, from, 8}} {
		if valid(c1, bad.ni, bad.from, bad.spi) {
			t.Errorf("cookie verifies for another request: %+v", bad)
		}
	}
	w.run(119 * time.Second)
	if c := d.cookieFor(ni, from, 7); !bytes.Equal(c, c1) {
		t.Error("the secret changed before 120 s")
	}
	w.run(2 * time.Second)
	c2 := d.cookieFor(ni, from, 7) // 121 s after first use: a new secret
	if c2[0] != 2 || bytes.Equal(c2, c1) || !hasText(rec.actions, "draw a new one (version 2)") {
		t.Fatalf("cookie after 121 s %x, actions %v", c2, rec.actions)
	}
	w.run(10 * time.Second)
	if !valid(c1, ni, from, 7) || !valid(c2, ni, from, 7) {
		t.Error("10 s after the switch, cookies of both secrets must verify")
	}
	w.run(time.Second)
	if valid(c1, ni, from, 7) || !valid(c2, ni, from, 7) {
		t.Error("11 s after the switch, only cookies of the new secret may verify")
	}
	// A third secret: the keyed MACs the daemon keeps follow the secrets.
	w.run(121 * time.Second)
	c3 := d.cookieFor(ni, from, 7)
	if c3[0] != 3 || bytes.Equal(c3, c2) || !valid(c3, ni, from, 7) || !valid(c2, ni, from, 7) || valid(c1, ni, from, 7) {
		t.Errorf("third secret: cookie %x; the second's %x must verify within the grace, the first's %x not", c3, c2, c1)
	}
	// The same seed makes the same secrets: runs are reproducible.
	w2 := newWorld(t)
	d2, _ := w2.add(ipB, conn(t, ipB, ipA, p, []string{"aes128-sha256"}, "k"), 2)
	if c := d2.cookieFor(ni, from, 7); !bytes.Equal(c, c1) {
		t.Error("two daemons with the same seed make different cookies")
	}
}
