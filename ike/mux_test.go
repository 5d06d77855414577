package ike

import (
	"net/netip"
	"slices"
	"testing"
)

// recordingDaemon notes what reaches it.
type recordingDaemon struct {
	name  string
	traps []Trap
	calls []string
}

func (r *recordingDaemon) HandleDatagram(_, _ netip.AddrPort, data []byte) {
	r.calls = append(r.calls, "datagram")
}
func (r *recordingDaemon) Traps() []Trap        { return r.traps }
func (r *recordingDaemon) Acquire(reqid uint32) { r.calls = append(r.calls, "acquire") }
func (r *recordingDaemon) Initiate(c, ch string) error {
	r.calls = append(r.calls, "initiate "+c)
	return nil
}
func (r *recordingDaemon) Rekey(c, ch string) error {
	r.calls = append(r.calls, "rekey "+c)
	return nil
}
func (r *recordingDaemon) Delete(c, ch string) error {
	r.calls = append(r.calls, "delete "+c)
	return nil
}
func (r *recordingDaemon) DeleteAll() int {
	r.calls = append(r.calls, "delete all")
	return 1
}
func (r *recordingDaemon) Liveness(c string) error {
	r.calls = append(r.calls, "liveness "+c)
	return nil
}
func (r *recordingDaemon) SetPSK(c string, _ []byte) error {
	r.calls = append(r.calls, "psk "+c)
	return nil
}
func (r *recordingDaemon) Close() { r.calls = append(r.calls, "close") }

// TestMuxRoutes checks that a node with IKEv1 and IKEv2 connections hands each datagram
// to the engine of the major version in its header (byte 17: 0x10 for ISAKMP, 0x20 for
// IKEv2), acquires to the engine with the trap, and commands to the engine of the
// connection.
func TestMuxRoutes(t *testing.T) {
	v1 := &recordingDaemon{name: "v1", traps: []Trap{{ReqID: 1, Conn: "old"}}}
	v2 := &recordingDaemon{name: "v2", traps: []Trap{{ReqID: 2, Conn: "new"}}}
	m := NewMux(v1, v2, []*Connection{{Name: "old", Version: 1}, {Name: "new", Version: 2}})
	header := func(version byte) []byte {
		b := make([]byte, 28)
		b[17] = version
		return b
	}
	m.HandleDatagram(netip.AddrPort{}, netip.AddrPort{}, header(0x10))
	m.HandleDatagram(netip.AddrPort{}, netip.AddrPort{}, header(0x20))
	m.HandleDatagram(netip.AddrPort{}, netip.AddrPort{}, []byte{1, 2, 3})
	m.Acquire(1)
	m.Acquire(2)
	for _, err := range []error{m.Initiate("old", ""), m.Rekey("new", ""), m.Delete("old", "x"), m.Liveness("new"), m.SetPSK("old", nil)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Initiate("nowhere", ""); err == nil {
		t.Error("a command for an unknown connection succeeds")
	}
	if got := len(m.Traps()); got != 2 {
		t.Errorf("%d traps, want 2", got)
	}
	if n := m.DeleteAll(); n != 2 {
		t.Errorf("DeleteAll deleted %d IKE SAs, want 1 of each engine", n)
	}
	m.Close()
	wantV1 := []string{"datagram", "acquire", "initiate old", "delete old", "psk old", "delete all", "close"}
	wantV2 := []string{"datagram", "datagram", "acquire", "rekey new", "liveness new", "delete all", "close"}
	if !slices.Equal(v1.calls, wantV1) || !slices.Equal(v2.calls, wantV2) {
		t.Errorf("IKEv1 engine got %v, want %v\nIKEv2 engine got %v, want %v", v1.calls, wantV1, v2.calls, wantV2)
	}
}
