package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/sim"
)

// Comparing a simulation with a real exchange (a capture imported with its key
// tables): the IKE messages in order, each with its exchange, whether it is a response,
// and its payload types, those inside an encrypted payload in its place.

// Message is one IKE message as a comparison sees it.
type Message struct {
	Proto    string // ikev1 or ikev2
	Exchange string
	Response bool
	// Payloads are the payload types in order, in RFC 7296's and RFC 2408's short names
	// (SA, KE, Nonce or NONCE, IDi, N, D, V or VID, HASH, NAT-D ...); a notify shows as
	// N(TYPE). The payloads of an encrypted payload (SK, or an IKEv1 message with its E
	// flag) stand where it stands; one that was not decrypted shows as "?".
	Payloads []string
	From     string
}

func (m Message) String() string {
	dir := "request"
	if m.Response {
		dir = "response"
	}
	return fmt.Sprintf("%s %s [%s]", m.Exchange, dir, strings.Join(m.Payloads, " "))
}

// Messages lists the IKE messages of a trace in the order they were sent: each once,
// as its sender put it on the wire (not a router's forwarded copy).
func Messages(tr *sim.Trace) []Message {
	var out []Message
	for _, e := range tr.Events {
		if e.Kind != sim.KindMessage || e.Forwarded || (e.Proto != "ikev1" && e.Proto != "ikev2") {
			continue
		}
		out = append(out, Message{Proto: e.Proto, Exchange: e.Exchange, Response: e.Response, Payloads: payloadTypes(e.Fields()), From: e.From})
	}
	return out
}

// longNames maps the dissection's payload names to their short names.
var longNames = map[string]string{
	"Security Association": "SA", "Key Exchange": "KE", "Identification - Initiator": "IDi",
	"Identification - Responder": "IDr", "Certificate": "CERT", "Certificate Request": "CERTREQ",
	"Authentication": "AUTH", "Nonce": "Nonce", "Delete": "D", "Vendor ID": "V",
	"Traffic Selector - Initiator": "TSi", "Traffic Selector - Responder": "TSr", "Configuration": "CP",
	"Extensible Authentication": "EAP", "Encrypted and Authenticated Fragment": "SKF",
	"Identification": "ID", "Hash": "HASH", "Signature": "SIG", "Attributes": "ATTR",
	"NAT Discovery": "NAT-D", "NAT Original Address": "NAT-OA", "NAT Discovery (draft)": "NAT-D",
	"NAT Original Address (draft)": "NAT-OA",
}

// payloadTypes reads the payload types of an IKE message from its dissection: the
// fields below the IKE message, the decrypted payloads in place of the encrypted one.
func payloadTypes(f *ike.Field) []string {
	msg := f
	for msg != nil && msg.Name != "IKEv2 message" && msg.Name != "ISAKMP message" && msg.Name != "IKEv1 message" {
		var next *ike.Field
		for _, c := range msg.Children {
			if c.Name == "UDP" || c.Name == "IKEv2 message" || c.Name == "ISAKMP message" || c.Name == "IKEv1 message" ||
				strings.HasPrefix(c.Name, "UDP") || c.Name == "Non-ESP Marker" {
				next = c
			}
		}
		if next == nil {
			// The IKE message's fields may hang below the UDP field directly.
			if slices.ContainsFunc(msg.Children, isHeader) {
				break
			}
			return nil
		}
		msg = next
	}
	if msg == nil {
		return nil
	}
	var out []string
	var walk func(fs []*ike.Field)
	walk = func(fs []*ike.Field) {
		for _, c := range fs {
			switch {
			case isHeader(c):
			case c.Name == "Encrypted and Authenticated" || c.Name == "Encrypted Data":
				dec := c.Find("Decrypted payloads")
				if dec == nil {
					out = append(out, "?")
					continue
				}
				walk(dec.Children)
			case c.Name == "Notify" || c.Name == "Notification":
				out = append(out, "N("+notifyName(c)+")")
			default:
				if short, ok := longNames[c.Name]; ok {
					out = append(out, short)
				}
			}
		}
	}
	walk(msg.Children)
	return out
}

func isHeader(f *ike.Field) bool { return f.Name == "IKE Header" || f.Name == "ISAKMP Header" }

// notifyName is a notify payload's type, as the dissection writes it.
func notifyName(f *ike.Field) string {
	if i := strings.Index(f.Value, " "); i > 0 {
		return f.Value[:i]
	}
	return f.Value
}

// Optional are the payloads a peer may send or leave out without changing the exchange:
// the status notifies and vendor IDs that announce what an implementation supports, and
// INITIAL_CONTACT. A simulation announces what ikesim implements; strongSwan announces
// more (MOBIKE, redirects, multiple authentication, ...). Comparisons set them aside
// and list them apart.
var Optional = []string{"N(MOBIKE_SUPPORTED)", "N(NO_ADDITIONAL_ADDRESSES)", "N(MULTIPLE_AUTH_SUPPORTED)",
	"N(EAP_ONLY_AUTHENTICATION)", "N(IKEV2_MESSAGE_ID_SYNC_SUPPORTED)", "N(REDIRECT_SUPPORTED)",
	"N(SIGNATURE_HASH_ALGORITHMS)", "N(CHILDLESS_IKEV2_SUPPORTED)", "N(IKEV2_FRAGMENTATION_SUPPORTED)",
	"N(INITIAL_CONTACT)", "V", "VID"}

// Core is a message without its optional payloads.
func (m Message) Core() Message {
	m.Payloads = slices.DeleteFunc(slices.Clone(m.Payloads), func(p string) bool { return slices.Contains(Optional, p) })
	return m
}

// Announced lists a message's announcements.
func (m Message) OptionalPayloads() []string {
	var out []string
	for _, p := range m.Payloads {
		if slices.Contains(Optional, p) {
			out = append(out, p)
		}
	}
	return out
}
