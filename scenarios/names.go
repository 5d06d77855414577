package scenarios

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/sim/trace"
)

// Names that expectations and fault rules match against, so that a typo is an error
// rather than a check that can never (or always) pass.

// Protos are the protocols of message events.
var Protos = []string{"ikev1", "ikev2", "esp", "ah", "icmp", "udp", "ip", "nat-keepalive"}

// Exchanges are the exchange names of message events: IKEv2's, then IKEv1's.
var Exchanges = append(ikev2.ExchangeNames(), ikev1.ExchangeNames()...)

// States are the state names engines report: strongSwan's for IKE SAs and Child SAs,
// Cisco IOS's for IKEv1.
var States = func() []string {
	out := slices.Clone(ikev2.StateNames)
	for _, s := range ikev1.States {
		if !slices.Contains(out, string(s)) {
			out = append(out, string(s))
		}
	}
	return out
}()

func knownState(s string) bool {
	for _, k := range States {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

var notifyNames = sync.OnceValue(func() []string {
	var names []string
	for i := 1; i < 65536; i++ {
		if n := ikev2.NotifyType(i).String(); !strings.Contains(n, "(") && !strings.HasPrefix(n, "NOTIFY") {
			names = append(names, n)
		}
	}
	// IKEv1's (RFC 2408 3.14.1, RFC 3706) in the spelling Wireshark and Cisco use.
	names = append(names, "INVALID-PAYLOAD-TYPE", "DOI-NOT-SUPPORTED", "SITUATION-NOT-SUPPORTED", "INVALID-COOKIE",
		"INVALID-MAJOR-VERSION", "INVALID-MINOR-VERSION", "INVALID-EXCHANGE-TYPE", "INVALID-FLAGS",
		"INVALID-MESSAGE-ID", "INVALID-PROTOCOL-ID", "INVALID-SPI", "INVALID-TRANSFORM-ID",
		"ATTRIBUTES-NOT-SUPPORTED", "NO-PROPOSAL-CHOSEN", "BAD-PROPOSAL-SYNTAX", "PAYLOAD-MALFORMED",
		"INVALID-KEY-INFORMATION", "INVALID-ID-INFORMATION", "INVALID-CERT-ENCODING", "INVALID-CERTIFICATE",
		"CERT-TYPE-UNSUPPORTED", "INVALID-CERT-AUTHORITY", "INVALID-HASH-INFORMATION", "AUTHENTICATION-FAILED",
		"INVALID-SIGNATURE", "ADDRESS-NOTIFICATION", "NOTIFY-SA-LIFETIME", "CERTIFICATE-UNAVAILABLE",
		"UNSUPPORTED-EXCHANGE-TYPE", "UNEQUAL-PAYLOAD-LENGTHS", "CONNECTED", "RESPONDER-LIFETIME",
		"REPLAY-STATUS", "INITIAL-CONTACT", "R-U-THERE", "R-U-THERE-ACK")
	sort.Strings(names)
	return slices.Compact(names)
})

// NotifyNames lists the notify type names of IKEv2 and IKEv1.
func NotifyNames() []string { return notifyNames() }

// KnownNotify reports whether name is a notify type of IKEv2 or IKEv1.
func KnownNotify(name string) bool {
	_, ok := slices.BinarySearch(notifyNames(), name)
	return ok
}

// DropCauses are the causes of drop events (trace.DropCauses).
var DropCauses = func() []string {
	var out []string
	for _, c := range trace.DropCauses {
		out = append(out, string(c))
	}
	return out
}()

// Purposes are what IKE messages can be for (ike.Purposes).
var Purposes = func() []string {
	var out []string
	for _, p := range ike.Purposes {
		out = append(out, string(p))
	}
	return out
}()

var payloadNames = sync.OnceValue(func() []string {
	var names []string
	for i := 1; i < 256; i++ {
		for _, n := range []string{ikev2.PayloadType(i).String(), ikev1.PayloadType(i).String()} {
			if !strings.HasPrefix(n, "PAYLOAD") && !strings.Contains(n, "(") {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
})

// PayloadNames lists the payload names of message events: IKEv2's (SA, KE, Nonce, IDi,
// AUTH, SK, ...) and IKEv1's (SA, KE, NONCE, ID, HASH, SIG, NAT-D, ...).
func PayloadNames() []string { return payloadNames() }
