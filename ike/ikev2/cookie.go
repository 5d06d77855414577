package ikev2

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"net/netip"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// A responder's defences against peers that have not authenticated (RFC 7296, Section
// 2.6), applied to every IKE_SA_INIT request before any state is made, in the order of
// strongSwan's receiver (drop_ike_sa_init) and with its settings (ike.Limits):
//  1. A COOKIE is demanded while too many IKE SAs are half-open: in all
//     (cookie_threshold) or from the request's address (cookie_threshold_ip); and for
//     10 seconds after either was last reached, so that the retransmissions of one
//     initiator are all answered alike (the cookie goes into its AUTH). A connection's
//     own cookie_threshold demands one as well. A request that carries a valid cookie
//     goes on.
//  2. A request from an address with block_threshold half-open IKE SAs is ignored.
//  3. Any request is ignored while init_limit_half_open IKE SAs are half-open.
//
// Cookie = <VersionIDofSecret> | HMAC-SHA256(<secret>, Ni | IPi | SPIi). A secret that
// has made cookies for 120 seconds is replaced (strongSwan's COOKIE_SECRET_SWITCH), and
// cookies of the one before are accepted for 10 seconds more (its COOKIE_LIFETIME): the
// time an initiator takes to come back with its cookie. Time comes from the engine's
// clock and secrets from its random source, so runs stay reproducible.

const (
	cookieSecretSwitch = 120 * time.Second // a secret makes cookies this long
	cookieGrace        = 10 * time.Second  // cookies of the previous secret are good this long after the switch
	cookieCalmDown     = 10 * time.Second  // cookies stay on this long after a threshold was last reached
	cookieBuckets      = 32                // per-address calm-down timestamps (strongSwan's COOKIE_CALMDOWN_BUCKETS)
	cookieSecretSize   = 32
)

// cookieJar holds the cookie secrets and when the thresholds were last reached.
type cookieJar struct {
	rand        io.Reader
	secret      []byte
	version     byte      // VersionIDofSecret of secret
	firstUse    time.Time // when secret made its first cookie; zero before
	prev        []byte    // the secret before, or nil
	prevVersion byte
	switched    time.Time // when prev was replaced
	// reached[0] is when cookie_threshold was last reached; reached[1+i] when
	// cookie_threshold_ip was, for an address in bucket i.
	reached [1 + cookieBuckets]time.Time
	// macs are HMAC-SHA-256 states keyed with secret and prev, reset for each cookie
	// rather than keyed anew (hmac.New allocates and hashes the padded key each time).
	macs [2]keyedMAC
}

// keyedMAC is an HMAC-SHA-256 keyed with key.
type keyedMAC struct {
	key []byte
	h   hash.Hash
}

// mac is an HMAC-SHA-256 keyed with secret, reset: one of the jar's two when it holds
// one with that key, else a new one in place of the one not keyed with the other secret.
func (j *cookieJar) mac(secret []byte) hash.Hash {
	for i := range j.macs {
		if m := &j.macs[i]; m.h != nil && bytes.Equal(m.key, secret) {
			m.h.Reset()
			return m.h
		}
	}
	m := &j.macs[0]
	if m.h != nil && (bytes.Equal(m.key, j.secret) || bytes.Equal(m.key, j.prev)) {
		m = &j.macs[1]
	}
	m.key, m.h = secret, hmac.New(sha256.New, secret)
	return m.h
}

func (j *cookieJar) init(rand io.Reader) error {
	j.rand, j.version = rand, 1
	j.secret = make([]byte, cookieSecretSize)
	_, err := io.ReadFull(rand, j.secret)
	return err
}

// rotate replaces a secret that has made cookies for too long.
func (d *Daemon) rotateCookieSecret(now time.Time) {
	j := &d.cookies
	if j.firstUse.IsZero() || now.Sub(j.firstUse) <= cookieSecretSwitch {
		return
	}
	secret := make([]byte, cookieSecretSize)
	if _, err := io.ReadFull(j.rand, secret); err != nil {
		d.failure(nil, "", 0, ike.FailInternal, "cannot draw a new cookie secret, keeping the old one: %v", err)
		return
	}
	used := now.Sub(j.firstUse)
	j.prev, j.prevVersion, j.switched = j.secret, j.version, now
	j.secret, j.firstUse = secret, time.Time{}
	if j.version++; j.version == 0 {
		j.version = 1
	}
	d.action("The cookie secret has made cookies for %s: draw a new one (version %d); cookies of the old one stay good for %s (RFC 7296, Section 2.6)",
		used.Round(time.Second), j.version, cookieGrace)
}

// cookieMAC is a cookie's hash over Ni | IPi | SPIi with a secret, after its version;
// h is an HMAC-SHA-256 keyed with the secret, reset.
func cookieMAC(version byte, h hash.Hash, ni []byte, remote netip.AddrPort, spiI uint64) []byte {
	h.Write(ni)
	h.Write(remote.Addr().AsSlice())
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], spiI)
	h.Write(b[:])
	return h.Sum([]byte{version})
}

// cookieFor is the cookie a request must bring back.
func (d *Daemon) cookieFor(ni []byte, remote netip.AddrPort, spiI uint64) []byte {
	now := d.env.Clock.Now()
	d.rotateCookieSecret(now)
	j := &d.cookies
	if j.firstUse.IsZero() {
		j.firstUse = now
	}
	return cookieMAC(j.version, j.mac(j.secret), ni, remote, spiI)
}

// cookieValid reports whether n is a COOKIE this node made for the request: with its
// current secret, or with the previous one within the grace period.
func (d *Daemon) cookieValid(n *Notify, ni []byte, remote netip.AddrPort, spiI uint64) bool {
	if n == nil || len(n.Data) != 1+sha256.Size {
		return false
	}
	now := d.env.Clock.Now()
	d.rotateCookieSecret(now)
	j := &d.cookies
	var secret []byte
	switch {
	case n.Data[0] == j.version:
		secret = j.secret
	case j.prev != nil && n.Data[0] == j.prevVersion && now.Sub(j.switched) <= cookieGrace:
		secret = j.prev
	default:
		return false
	}
	return hmac.Equal(n.Data, cookieMAC(n.Data[0], j.mac(secret), ni, remote, spiI))
}

// cookieRequired says why a request of connection c from address a must bring a
// COOKIE, or "" when it need not.
func (d *Daemon) cookieRequired(c *ike.Connection, a netip.Addr) string {
	total, from := d.halfOpen.Count(a)
	if c.CookieThreshold > 0 && total >= c.CookieThreshold {
		return fmt.Sprintf("%d half-open IKE SAs reach the threshold of %d", total, c.CookieThreshold)
	}
	now := d.env.Clock.Now()
	if why := d.threshold(0, total, d.limits.CookieThreshold, now, "half-open IKE SAs", "cookie_threshold"); why != "" {
		return why
	}
	h := fnv.New32a()
	h.Write(a.AsSlice())
	return d.threshold(1+int(h.Sum32()%cookieBuckets), from, d.limits.CookieThresholdIP, now,
		"half-open IKE SAs from "+a.String(), "cookie_threshold_ip")
}

// threshold checks count (of what) against the limit of setting, with the calm-down
// timestamp reached[i].
func (d *Daemon) threshold(i, count, limit int, now time.Time, what, setting string) string {
	if limit <= 0 {
		return ""
	}
	last := &d.cookies.reached[i]
	if count >= limit {
		*last = now
		return fmt.Sprintf("%d %s reach %s %d", count, what, setting, limit)
	}
	if !last.IsZero() && now.Sub(*last) < cookieCalmDown {
		return fmt.Sprintf("%s %d was reached less than %s ago: cookies stay on, so that all retransmissions of an initiator are answered alike",
			setting, limit, cookieCalmDown)
	}
	return ""
}

// overLimit says why a request from address a is ignored without an answer, or "".
func (d *Daemon) overLimit(a netip.Addr) string {
	total, from := d.halfOpen.Count(a)
	if l := d.limits.BlockThreshold; l > 0 && from >= l {
		return fmt.Sprintf("%d half-open IKE SAs from %s reach block_threshold %d: ignore the IKE_SA_INIT request", from, a, l)
	}
	if l := d.limits.InitLimitHalfOpen; l > 0 && total >= l {
		return fmt.Sprintf("%d half-open IKE SAs reach init_limit_half_open %d: ignore the IKE_SA_INIT request", total, l)
	}
	return ""
}
