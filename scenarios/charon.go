package scenarios

import (
	"github.com/ikesim/ikesim/ike"
)

// CharonSpec is a node's IKE daemon settings in the words of strongswan.conf's charon
// section: the defences of an IKEv2 responder against peers that have not
// authenticated. Fields left out keep strongSwan's defaults.
type CharonSpec struct {
	// DoSProtection no turns off cookies and the per-address block (default yes).
	DoSProtection *YesNo `yaml:"dos_protection"`
	// CookieThreshold demands a COOKIE while this many IKE SAs are half-open (30).
	CookieThreshold *int `yaml:"cookie_threshold"`
	// CookieThresholdIP demands one from an address with this many half-open (3).
	CookieThresholdIP *int `yaml:"cookie_threshold_ip"`
	// BlockThreshold ignores IKE_SA_INIT from an address with this many half-open (5).
	BlockThreshold *int `yaml:"block_threshold"`
	// InitLimitHalfOpen ignores every IKE_SA_INIT while this many are half-open (0:
	// no limit).
	InitLimitHalfOpen *int `yaml:"init_limit_half_open"`
	// KeepAlive is the NAT keep-alive interval of every connection of the node that sets
	// none of its own (strongswan.conf's charon.keep_alive; 20s).
	KeepAlive Duration `yaml:"keep_alive"`
}

// charon checks a node's charon section (at path p) and returns the limits it sets, or
// nil when it has none.
func (v *validator) charon(spec *CharonSpec, p string) *ike.Limits {
	if spec == nil {
		return nil
	}
	l := ike.DefaultLimits()
	if spec.DoSProtection != nil && !*spec.DoSProtection {
		l.CookieThreshold, l.CookieThresholdIP, l.BlockThreshold = 0, 0, 0
	}
	for _, f := range []struct {
		name string
		set  *int
		to   *int
	}{
		{"cookie_threshold", spec.CookieThreshold, &l.CookieThreshold},
		{"cookie_threshold_ip", spec.CookieThresholdIP, &l.CookieThresholdIP},
		{"block_threshold", spec.BlockThreshold, &l.BlockThreshold},
		{"init_limit_half_open", spec.InitLimitHalfOpen, &l.InitLimitHalfOpen},
	} {
		switch {
		case f.set == nil:
		case *f.set < 0:
			v.errorf(p+"."+f.name, "%s is a number of half-open IKE SAs, 0 (no limit) or more, not %d", f.name, *f.set)
		default:
			*f.to = *f.set
		}
	}
	return &l
}
