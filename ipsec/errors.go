package ipsec

import "fmt"

// DropReason says why a packet was refused: an inbound packet that did not pass RFC 4303
// Section 3.4 processing, or an outbound one that could not be protected. It is an error
// itself, so that errors.Is(err, ipsec.DropICV) picks a reason out of a *DropError.
type DropReason uint8

const (
	DropTruncated     DropReason = iota + 1 // shorter than its headers say
	DropMalformed                           // a header field holds an impossible value
	DropChecksum                            // an IPv4, ICMP or UDP checksum is wrong
	DropFragment                            // an IPv4 fragment: this package does not reassemble
	DropNotESP                              // neither ESP, UDP-encapsulated ESP nor AH
	DropIKE                                 // UDP 4500 with the non-ESP marker: an IKE message (RFC 3948, Section 2.2)
	DropKeepalive                           // a NAT-keepalive, the single byte 0xFF (RFC 3948, Section 2.3)
	DropUnknownSPI                          // no inbound SA holds this SPI
	DropEncapMismatch                       // ESP arrived with UDP encapsulation when the SA has none, or the reverse
	DropReplay                              // the anti-replay window refused the sequence number
	DropICV                                 // the integrity check value did not verify
	DropBadPadding                          // the padding is not 1, 2, 3, ... (RFC 4303, Section 2.4)
	DropBadNextHeader                       // the Next Header does not fit the SA's mode
	DropDummy                               // a dummy packet, Next Header 59 (RFC 4303, Section 2.6)
	DropSeqOverflow                         // the sequence number would cycle: the SA must be rekeyed (RFC 4303, Section 3.3.3)
	DropNoSA                                // no outbound SA for the policy's Reqid
	DropConfig                              // the SA is not usable as configured (key length, missing Rand)
	DropSelectors                           // the decrypted packet lies outside the SA's traffic selectors (RFC 4301, Section 5.2)
	DropWrongProtocol                       // an AH packet for an ESP SA's SPI, or the reverse
	DropBundle                              // ESP alone, or AH alone, where an AH+ESP bundle is negotiated (RFC 4301, Section 5.2)
)

var dropNames = [...]string{
	DropTruncated:     "truncated packet",
	DropMalformed:     "malformed header",
	DropChecksum:      "bad checksum",
	DropFragment:      "IP fragment",
	DropNotESP:        "not ESP",
	DropIKE:           "IKE message (non-ESP marker)",
	DropKeepalive:     "NAT-keepalive",
	DropUnknownSPI:    "unknown SPI",
	DropEncapMismatch: "UDP encapsulation mismatch",
	DropReplay:        "replayed sequence number",
	DropICV:           "ICV mismatch",
	DropBadPadding:    "bad padding",
	DropBadNextHeader: "unexpected next header",
	DropDummy:         "dummy packet",
	DropSeqOverflow:   "sequence number exhausted",
	DropNoSA:          "no SA",
	DropConfig:        "SA misconfigured",
	DropSelectors:     "outside the SA's traffic selectors",
	DropWrongProtocol: "SA of another protocol",
	DropBundle:        "not through the whole SA bundle",
}

func (r DropReason) String() string { return enumName(dropNames[:], uint8(r), "DropReason") }

func (r DropReason) Error() string { return "ipsec: " + r.String() }

// A DropError is a refused packet: the reason, the SA's SPI and the sequence number when
// they were known, and a detail for the trace.
type DropError struct {
	Reason DropReason
	SPI    uint32 // 0 when no SA was found
	Seq    uint64 // 0 when not read
	Detail string
	// AddressChanged: an AH ICV failed where an outer address it covers was rewritten
	// on the way (the SA knows of a NAT, or the address is not the SA's).
	AddressChanged bool
}

func (e *DropError) Error() string {
	s := e.Reason.Error()
	switch {
	case e.SPI != 0 && e.Seq != 0:
		s += fmt.Sprintf(" (SPI 0x%08x, seq %d)", e.SPI, e.Seq)
	case e.SPI != 0:
		s += fmt.Sprintf(" (SPI 0x%08x)", e.SPI)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the reason, for errors.Is.
func (e *DropError) Unwrap() error { return e.Reason }

// dropf builds a *DropError without SA context.
func dropf(r DropReason, format string, args ...any) *DropError {
	return &DropError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// enumName is the name of v in a table indexed by value, or typ(v) when it has none.
func enumName(names []string, v uint8, typ string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}
