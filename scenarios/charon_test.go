package scenarios

import (
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
)

// TestCharonSettingsReachTheEngine: a node's charon section becomes the ike.Limits on
// each of its connections, strongSwan's defaults filling what it leaves out; a node
// without one leaves them nil (the engine's defaults, the same).
func TestCharonSettingsReachTheEngine(t *testing.T) {
	for _, tc := range []struct {
		name, charon string
		want         *ike.Limits
	}{
		{"none", "", nil},
		{"one setting", ", charon: {init_limit_half_open: 100}", &ike.Limits{CookieThreshold: 30, CookieThresholdIP: 3, BlockThreshold: 5, InitLimitHalfOpen: 100}},
		{"all", ", charon: {cookie_threshold: 10, cookie_threshold_ip: 2, block_threshold: 4, init_limit_half_open: 50}",
			&ike.Limits{CookieThreshold: 10, CookieThresholdIP: 2, BlockThreshold: 4, InitLimitHalfOpen: 50}},
		{"dos_protection no", ", charon: {dos_protection: no, init_limit_half_open: 8}", &ike.Limits{InitLimitHalfOpen: 8}},
		{"zero turns one off", ", charon: {cookie_threshold: 0}", &ike.Limits{CookieThresholdIP: 3, BlockThreshold: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(brokenBase, "address: 192.0.2.1/24}", "address: 192.0.2.1/24"+tc.charon+"}", 1)
			s, err := Parse([]byte(src), "t.yaml")
			if err != nil {
				t.Fatal(err)
			}
			conns, err := s.NodeConnections("a")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range conns {
				switch got := c.Limits; {
				case (got == nil) != (tc.want == nil):
					t.Errorf("connection %s: limits %+v, want %+v", c.Name, got, tc.want)
				case got != nil && *got != *tc.want:
					t.Errorf("connection %s: limits %+v, want %+v", c.Name, *got, *tc.want)
				}
			}
		})
	}
}
