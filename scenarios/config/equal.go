package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Canonical describes what a connection does, for comparing a scenario with the one an
// export and an import give back: names left out (IOS has none), each proposal list as
// the single-algorithm proposals it offers (a format may split a proposal in several),
// IKEv1 lifetimes as the engine proposes them, and no start_action the same as none.
// With anyStart, start actions are left out too (IOS starts every crypto map on traffic).
func Canonical(c *ike.Connection, anyStart bool) string {
	var b strings.Builder
	p1life, p1rekey := c.LifeTime, c.RekeyTime
	if c.Version == 1 {
		p1life, p1rekey = ikev1Times(p1life, p1rekey, 86400*time.Second)
	}
	fmt.Fprintf(&b, "version %d aggressive %t local %v remote %v ports %d/%d\n", c.Version, c.Aggressive, c.LocalAddrs, c.RemoteAddrs, c.LocalPort, c.RemotePort)
	fmt.Fprintf(&b, "proposals %s\n", strings.Join(combos(c.Proposals), ", "))
	for _, a := range []struct {
		side string
		cfg  ike.AuthConfig
	}{{"local", c.Local}, {"remote", c.Remote}} {
		fmt.Fprintf(&b, "%s %s id %s pss %t eap %q psk %q certs %d", a.side, a.cfg.Method, a.cfg.ID, a.cfg.RSAPSS, a.cfg.EAPID, a.cfg.PSK, len(a.cfg.Certs))
		for _, cert := range a.cfg.Certs {
			fmt.Fprintf(&b, " %x", cert.Raw[len(cert.Raw)-8:])
		}
		var ids []string
		for id, s := range a.cfg.EAPSecrets {
			ids = append(ids, fmt.Sprintf("%s=%q", id, s))
		}
		slices.Sort(ids)
		fmt.Fprintf(&b, " eap secrets %v\n", ids)
	}
	fmt.Fprintf(&b, "dpd %s rekey %s life %s encap %t childless %t keepalive %s cookies %d\n", c.DPDDelay, p1rekey, p1life, c.Encap, c.Childless, c.Keepalive, c.CookieThreshold)
	fmt.Fprintf(&b, "retransmit %s %g %d vip %t push %t pools %v dns %v frag %t %d nosig %t cacerts %d\n", c.RetransmitTimeout, c.RetransmitBase,
		c.RetransmitTries, c.RequestVIP, c.ModeConfigPush, c.Pools, c.DNS, c.Fragmentation, c.FragmentSize, c.NoSignatureAuth, len(c.CACerts))
	if x := c.XAuth; x != nil {
		var users []string
		for u, p := range x.Users {
			users = append(users, u+"="+p)
		}
		slices.Sort(users)
		fmt.Fprintf(&b, "xauth %q %q %v\n", x.User, x.Password, users)
	}
	var children []string
	for _, ch := range c.Children {
		life, rekey := ch.LifeTime, ch.RekeyTime
		if c.Version == 1 {
			life, rekey = ikev1Times(life, rekey, 3600*time.Second)
		}
		start := ch.StartAction
		switch {
		case anyStart:
			start = "any"
		case start == "":
			start = "none"
		}
		children = append(children, fmt.Sprintf("child %v ↔ %v esp %s transport %t start %s rekey %s life %s bytes %d",
			ch.LocalTS, ch.RemoteTS, strings.Join(combos(ch.ESPProposals), ", "), ch.Transport, start, rekey, life, ch.LifeBytes))
	}
	slices.Sort(children)
	b.WriteString(strings.Join(children, "\n"))
	return b.String()
}

// ikev1Times are the lifetime an IKEv1 SA proposes and when its initiator rekeys it, as
// ike/ikev1 has them (phase1Life, childLife, armTimers): the lifetime, else rekey_time
// + 10 %, else the default; the rekey time, else 90 % of the lifetime.
func ikev1Times(life, rekey, def time.Duration) (time.Duration, time.Duration) {
	switch {
	case life > 0:
	case rekey > 0:
		life = rekey * 11 / 10
	default:
		life = def
	}
	if rekey == 0 {
		rekey = life * 9 / 10
	}
	return life, rekey
}

// combos lists the single-algorithm proposals a list offers, in the order of
// preference, each once.
func combos(ps []ike.Proposal) []string {
	var out []string
	for _, p := range ps {
		sets := [][]ike.Transform{{}}
		for _, typ := range []ike.TransformType{ike.TransformENCR, ike.TransformINTEG, ike.TransformPRF, ike.TransformDH, ike.TransformESN} {
			ts := transformsOf([]ike.Proposal{p}, typ)
			if len(ts) == 0 {
				continue
			}
			var next [][]ike.Transform
			for _, s := range sets {
				for _, t := range ts {
					next = append(next, append(slices.Clone(s), t))
				}
			}
			sets = next
		}
		for _, s := range sets {
			q := ike.Proposal{Protocol: p.Protocol, Transforms: s}
			if str := q.String(); !slices.Contains(out, str) {
				out = append(out, str)
			}
		}
	}
	return out
}
