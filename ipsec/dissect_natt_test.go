package ipsec

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestDissectNATTPorts: a port in Dissector.NATTPorts carries RFC 3948 framing as 4500
// does (a real peer's IKE port other than 500), unless the other port is 500, where IKE
// goes without a marker; ports in no list carry plain data.
func TestDissectNATTPorts(t *testing.T) {
	marker := append([]byte{0, 0, 0, 0}, bytes.Repeat([]byte{1}, 28)...)
	esp := bytes.Repeat([]byte{7}, 40)
	tests := []struct {
		name         string
		sport, dport uint16
		natt         []uint16
		payload      []byte
		want         string // a field the dissection must hold
	}{
		{"marker on a NAT-T port", 15500, 33000, []uint16{15500}, marker, "Non-ESP Marker"},
		{"marker toward a NAT-T port", 33000, 15500, []uint16{15500}, marker, "Non-ESP Marker"},
		{"ESP on a NAT-T port", 15500, 33000, []uint16{15500}, esp, "SPI"},
		{"keepalive on a NAT-T port", 33000, 15500, []uint16{15500}, []byte{0xff}, "NAT-Keepalive"},
		{"port 500 wins: IKE without a marker", 500, 15500, []uint16{15500}, marker[4:], "IKE Message"},
		{"no list: plain data", 15500, 33000, nil, marker, "Data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt, err := NewUDPPacket(netip.AddrPortFrom(gwA, tt.sport), netip.AddrPortFrom(gwB, tt.dport), 1, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			f := Dissector{NATTPorts: tt.natt}.IPv4(pkt)
			checkOffsets(t, f, len(pkt))
			if f.Find(tt.want) == nil {
				t.Errorf("no %q in the dissection", tt.want)
			}
		})
	}
}
