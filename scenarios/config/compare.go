package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/sim/trace"
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
	// (SA, KE, Nonce, IDi, N, D, V, HASH, NAT-D ...); a notify shows as N(TYPE). The
	// payloads of an encrypted payload (SK, or an IKEv1 message with its E flag) stand
	// where it stands.
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
// as its sender put it on the wire (not a router's forwarded copy), with the payloads
// the engine (or the import) read in it.
func Messages(tr *trace.Trace) []Message {
	var out []Message
	for _, e := range tr.Events {
		if e.Kind != trace.KindMessage || e.Forwarded() || (e.Proto() != "ikev1" && e.Proto() != "ikev2") {
			continue
		}
		out = append(out, Message{Proto: e.Proto(), Exchange: e.Exchange(), Response: e.Response(), Payloads: payloadTypes(e), From: e.From()})
	}
	return out
}

// shortNames are the names IKEv1 and IKEv2 share in a comparison.
var shortNames = map[string]string{"NONCE": "Nonce", "VID": "V", "CR": "CERTREQ"}

// payloadTypes writes a message's payload types in order: SK is left out (its payloads
// follow it), a notify is N(TYPE), with IKEv1's names in IKEv2's spelling (NONCE is
// Nonce, VID V, R-U-THERE R_U_THERE).
func payloadTypes(e *trace.Event) []string {
	var out []string
	notifies := e.Notifies()
	for _, p := range e.Payloads() {
		switch {
		case p == "SK":
		case p == "N" && len(notifies) > 0:
			out = append(out, "N("+strings.ReplaceAll(notifies[0], "-", "_")+")")
			notifies = notifies[1:]
		default:
			if n, ok := shortNames[p]; ok {
				p = n
			}
			out = append(out, p)
		}
	}
	return out
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
