package swanctl

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Values as strongSwan reads them (vici_config.c and libstrongswan's parsers).

// list splits a comma-separated value, trimming each item.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseBool reads strongSwan's booleans: yes, true, enabled, 1 and no, false,
// disabled, 0.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true", "enabled", "1":
		return true, nil
	case "no", "false", "disabled", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

// parseTime reads a time in seconds with an optional unit: s, m, h, d.
func parseTime(v string) (time.Duration, error) {
	unit := time.Second
	num := v
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 's':
			num = v[:n-1]
		case 'm':
			unit, num = time.Minute, v[:n-1]
		case 'h':
			unit, num = time.Hour, v[:n-1]
		case 'd':
			unit, num = 24*time.Hour, v[:n-1]
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time (a number of seconds, or with s, m, h or d)", v)
	}
	return time.Duration(n) * unit, nil
}

// parseBytes reads a volume with an optional unit: k, m, g (1024-based).
func parseBytes(v string) (uint64, error) {
	mult := uint64(1)
	num := strings.TrimSpace(v)
	if n := len(num); n > 0 {
		switch num[n-1] {
		case 'k', 'K':
			mult, num = 1<<10, num[:n-1]
		case 'm', 'M':
			mult, num = 1<<20, num[:n-1]
		case 'g', 'G':
			mult, num = 1<<30, num[:n-1]
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a volume (a number of bytes, or with k, m or g)", v)
	}
	return n * mult, nil
}

// parseSecret reads a secret: "0x" and hex, "0s" and base64, or the text itself.
func parseSecret(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "0x"):
		b, err := hex.DecodeString(v[2:])
		if err != nil {
			return "", fmt.Errorf("the hex secret does not decode: %v", err)
		}
		return string(b), nil
	case strings.HasPrefix(v, "0s"):
		b, err := base64.StdEncoding.DecodeString(v[2:])
		if err != nil {
			return "", fmt.Errorf("the base64 secret does not decode: %v", err)
		}
		return string(b), nil
	}
	return v, nil
}

// strongSwan's default proposals (libstrongswan's proposal_create_default and
// proposal_create_default_aead, as swanctl's "default" and an empty proposals list
// give them), each algorithm in strongSwan's order. Of these, a scenario gets the ones
// ikesim has: which ones strongSwan offers depends on its plugins too.
var (
	defaultIKE = [][]string{
		{"aes128", "aes192", "aes256", "aes128ctr", "aes192ctr", "aes256ctr", "camellia128", "camellia192", "camellia256", "3des",
			"sha256", "sha384", "sha512", "aesxcbc", "aescmac", "sha1",
			"prfsha256", "prfsha384", "prfsha512", "prfaesxcbc", "prfaescmac", "prfsha1",
			"ecp256", "ecp384", "ecp521", "ecp256bp", "ecp384bp", "ecp512bp", "x25519", "x448",
			"modp3072", "modp4096", "modp6144", "modp8192", "modp2048"},
		{"aes128gcm16", "aes192gcm16", "aes256gcm16", "aes128ccm16", "aes192ccm16", "aes256ccm16", "chacha20poly1305",
			"aes128gcm12", "aes192gcm12", "aes256gcm12", "aes128gcm8", "aes192gcm8", "aes256gcm8",
			"prfsha256", "prfsha384", "prfsha512", "prfaesxcbc", "prfaescmac", "prfsha1",
			"ecp256", "ecp384", "ecp521", "ecp256bp", "ecp384bp", "ecp512bp", "x25519", "x448",
			"modp3072", "modp4096", "modp6144", "modp8192", "modp2048"},
	}
	defaultESP = [][]string{
		{"aes128gcm16", "aes192gcm16", "aes256gcm16"},
		{"aes128", "aes192", "aes256", "sha256", "sha384", "sha512", "sha1", "aesxcbc"},
	}
)

// defaults writes strongSwan's default proposals with the keywords ikesim knows, the
// non-AEAD one first for IKE, the AEAD one first for ESP (as vici_config.c adds them).
func defaults(lists [][]string) []string {
	known := ike.ProposalKeywords()
	var out []string
	for _, l := range lists {
		var kept []string
		for _, k := range l {
			if _, ok := slices.BinarySearch(known, k); ok {
				kept = append(kept, k)
			}
		}
		out = append(out, strings.Join(kept, "-"))
	}
	return out
}
