package ike

import (
	"fmt"
	"net/netip"
	"slices"
)

// Mux is the Daemon of a node that runs IKEv1 and IKEv2 connections side by side: it
// hands each datagram to the engine of the version its header names (the major version
// in the high nibble of byte 17, RFC 2408 and RFC 7296, Section 3.1) and each command to
// the engine that holds the connection.
//
// The engines number their children's reqids themselves; give every ChildConfig a
// ReqID unique on the node before making them, so that the numbers do not collide.
type Mux struct {
	V1, V2   Daemon
	versions map[string]int // connection name → IKE version
}

// NewMux makes the dispatcher for conns run by v1 (version 1 ones) and v2 (version 2).
func NewMux(v1, v2 Daemon, conns []*Connection) *Mux {
	m := &Mux{V1: v1, V2: v2, versions: map[string]int{}}
	for _, c := range conns {
		m.versions[c.Name] = c.Version
	}
	return m
}

var _ Daemon = (*Mux)(nil)

// ikeVersionOffset is where the version byte sits in both headers.
const ikeVersionOffset = 17

// HandleDatagram passes a message to the engine of its major version; one too short to
// say goes to IKEv2, whose parser reports it.
func (m *Mux) HandleDatagram(local, remote netip.AddrPort, data []byte) {
	if len(data) > ikeVersionOffset && data[ikeVersionOffset]>>4 == 1 {
		m.V1.HandleDatagram(local, remote, data)
		return
	}
	m.V2.HandleDatagram(local, remote, data)
}

// Traps lists the trap policies of both engines.
func (m *Mux) Traps() []Trap { return append(m.V1.Traps(), m.V2.Traps()...) }

// Acquire passes the acquire to the engine whose trap has the reqid.
func (m *Mux) Acquire(reqid uint32) {
	if slices.ContainsFunc(m.V1.Traps(), func(t Trap) bool { return t.ReqID == reqid }) {
		m.V1.Acquire(reqid)
		return
	}
	m.V2.Acquire(reqid)
}

// with runs f on the engine that holds the connection.
func (m *Mux) with(conn string, f func(Daemon) error) error {
	switch m.versions[conn] {
	case 1:
		return f(m.V1)
	case 2:
		return f(m.V2)
	}
	return fmt.Errorf("ike: no connection %q", conn)
}

func (m *Mux) Initiate(conn, child string) error {
	return m.with(conn, func(d Daemon) error { return d.Initiate(conn, child) })
}

func (m *Mux) Rekey(conn, child string) error {
	return m.with(conn, func(d Daemon) error { return d.Rekey(conn, child) })
}

func (m *Mux) Delete(conn, child string) error {
	return m.with(conn, func(d Daemon) error { return d.Delete(conn, child) })
}

// DeleteAll deletes the IKE SAs of both engines.
func (m *Mux) DeleteAll() int { return m.V1.DeleteAll() + m.V2.DeleteAll() }

func (m *Mux) Liveness(conn string) error {
	return m.with(conn, func(d Daemon) error { return d.Liveness(conn) })
}

func (m *Mux) SetPSK(conn string, psk []byte) error {
	return m.with(conn, func(d Daemon) error { return d.SetPSK(conn, psk) })
}

// Close stops both engines.
func (m *Mux) Close() {
	m.V1.Close()
	m.V2.Close()
}

var _ Expirer = (*Mux)(nil)

// Expire passes a volume lifetime's expiry to both engines; the one that has the SA
// acts on it.
func (m *Mux) Expire(spiIn uint32, hard bool) {
	for _, d := range []Daemon{m.V1, m.V2} {
		if e, ok := d.(Expirer); ok {
			e.Expire(spiIn, hard)
		}
	}
}
