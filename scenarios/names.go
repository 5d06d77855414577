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
var Protos = []string{"ikev1", "ikev2", "esp", "icmp", "udp", "ip", "nat-keepalive"}

// Exchanges are the exchange names of message events.
var Exchanges = []string{"IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL",
	"Main Mode", "Aggressive Mode", "Quick Mode", "Informational", "Transaction", "New Group Mode"}

// States are the state names engines report: strongSwan's for IKE SAs and Child SAs,
// Cisco IOS's for IKEv1.
var States = []string{"CREATED", "CONNECTING", "ESTABLISHED", "REKEYING", "REKEYED", "DELETING", "DESTROYED",
	"INSTALLING", "INSTALLED",
	"IKE_READY", "IKE_I_MM1", "IKE_I_MM2", "IKE_I_MM3", "IKE_I_MM4", "IKE_I_MM5", "IKE_I_MM6",
	"IKE_R_MM1", "IKE_R_MM2", "IKE_R_MM3", "IKE_R_MM4", "IKE_R_MM5", "IKE_R_MM6",
	"IKE_I_AM1", "IKE_I_AM2", "IKE_R_AM1", "IKE_R_AM2", "IKE_P1_COMPLETE", "IKE_DEST_SA",
	"IKE_XAUTH_REQ_SENT", "IKE_XAUTH_REPLY_SENT", "IKE_XAUTH_SET_SENT", "IKE_XAUTH_REPLY_AWAIT", "IKE_XAUTH_COMPLETE",
	"IKE_CONFIG_MODE_REQ_SENT", "IKE_CONFIG_MODE_SET_SENT", "IKE_CONFIG_MODE_SET", "IKE_QM_SPI_STARVE",
	"IKE_QM_READY", "IKE_QM_I_QM1", "IKE_QM_I_QM2", "IKE_QM_R_QM1", "IKE_QM_R_QM2", "IKE_QM_PHASE2_COMPLETE"}

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
