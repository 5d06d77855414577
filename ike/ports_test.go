package ike

import (
	"net/netip"
	"testing"
)

// TestFloatPorts: once a NAT is detected an end on port 500 moves to 4500 (RFC 7296,
// Section 2.23); ends on other ports, which frame IKE with the non-ESP marker already,
// stay, as strongSwan's do.
func TestFloatPorts(t *testing.T) {
	ap := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	tests := []struct {
		local, remote       string
		wantLocal, wantRemo string
		moved               bool
	}{
		{"192.0.2.1:500", "192.0.2.2:500", "192.0.2.1:4500", "192.0.2.2:4500", true},
		{"192.0.2.1:25500", "192.0.2.2:500", "192.0.2.1:25500", "192.0.2.2:4500", true},
		{"192.0.2.1:500", "192.0.2.2:15500", "192.0.2.1:4500", "192.0.2.2:15500", true},
		{"192.0.2.1:25500", "192.0.2.2:15500", "192.0.2.1:25500", "192.0.2.2:15500", false},
		{"192.0.2.1:4500", "192.0.2.2:4500", "192.0.2.1:4500", "192.0.2.2:4500", false},
	}
	for _, tt := range tests {
		l, r, moved := FloatPorts(ap(tt.local), ap(tt.remote))
		if l != ap(tt.wantLocal) || r != ap(tt.wantRemo) || moved != tt.moved {
			t.Errorf("FloatPorts(%s, %s) = %s, %s, %t; want %s, %s, %t", tt.local, tt.remote, l, r, moved, tt.wantLocal, tt.wantRemo, tt.moved)
		}
	}
}

// TestConnectionPorts: an initiator starts on LocalPort and RemotePort, 500 where unset.
func TestConnectionPorts(t *testing.T) {
	for _, tt := range []struct {
		c          Connection
		local, rem uint16
	}{
		{Connection{}, 500, 500},
		{Connection{LocalPort: 25500}, 25500, 500},
		{Connection{RemotePort: 15500}, 500, 15500},
	} {
		if l, r := tt.c.Ports(); l != tt.local || r != tt.rem {
			t.Errorf("%+v: Ports() = %d, %d; want %d, %d", tt.c, l, r, tt.local, tt.rem)
		}
	}
}
