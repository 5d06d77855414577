package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/ikev1"
	"github.com/ikesim/ikesim/ike/ikev2"
	"github.com/ikesim/ikesim/ipsec"
	"github.com/ikesim/ikesim/sim/trace"
)

// Importing a capture: every IKE and ESP datagram of a pcap (from ikesim or from a real
// peer such as strongSwan) becomes a message event with the same dissection a simulated
// run has, decrypted with Wireshark's key tables where they hold the keys. Nodes are the
// IP addresses, and the trace opens with a topology event for each (finish). Retransmissions are marked, and a message that cannot be decrypted is
// kept, with the reason in its dissection; nothing is dropped silently. When both ends
// share an address (a capture on loopback), the nodes are address:port.

// ImportKeys are the parsed Wireshark key tables.
type ImportKeys struct {
	IKEv2 []ike.IKEv2Keys
	IKEv1 []ike.IKEv1Keys
	ESP   []ike.ESPKeys
	// Skipped says, one line each, which records ReadKeyDir left out because ikesim
	// lacks their algorithm ("DIR/esp_sa line 3 skipped: ..."); the others still count.
	Skipped []string
}

// ReadKeyDir reads ikev2_decryption_table, ikev1_decryption_table and esp_sa from dir;
// a missing table is empty, a malformed one an error naming the file and line. A record
// whose algorithm ikesim lacks is skipped and listed in Skipped, as tshark skips what it
// cannot use.
func ReadKeyDir(dir string) (ImportKeys, error) {
	var k ImportKeys
	open := func(name string) (*os.File, bool, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		return f, err == nil, err
	}
	var errs []error
	skip := func(ls []ike.SkippedLine) {
		for _, l := range ls {
			k.Skipped = append(k.Skipped, filepath.Join(dir, l.String()))
		}
	}
	if f, ok, err := open("ikev2_decryption_table"); ok {
		var skipped []ike.SkippedLine
		k.IKEv2, skipped, err = ike.ParseIKEv2KeyTable(f)
		skip(skipped)
		f.Close()
		errs = append(errs, wrapFile(dir, "ikev2_decryption_table", err))
	} else {
		errs = append(errs, err)
	}
	if f, ok, err := open("ikev1_decryption_table"); ok {
		k.IKEv1, err = ike.ParseIKEv1KeyTable(f)
		f.Close()
		errs = append(errs, wrapFile(dir, "ikev1_decryption_table", err))
	} else {
		errs = append(errs, err)
	}
	if f, ok, err := open("esp_sa"); ok {
		var skipped []ike.SkippedLine
		k.ESP, skipped, err = ike.ParseESPKeyTable(f)
		skip(skipped)
		f.Close()
		errs = append(errs, wrapFile(dir, "esp_sa", err))
	} else {
		errs = append(errs, err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return k, fmt.Errorf("sim: key directory %s: not a directory", dir)
	}
	return k, errors.Join(errs...)
}

func wrapFile(dir, name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %v", filepath.Join(dir, name), err)
}

// ImportOptions say how to read a capture.
type ImportOptions struct {
	Keys ImportKeys
	// NATTPorts are UDP ports other than 4500 that carry RFC 3948 framing (the non-ESP
	// marker before IKE, ESP otherwise), such as a daemon's charon.port_nat_t, or its
	// charon.port when that is not 500.
	NATTPorts []uint16
}

// Import reads a capture and makes a trace of its IKE and ESP datagrams. The capture is
// pcap (microsecond or nanosecond timestamps) or pcapng (any number of interfaces, each
// with its own link type and timestamp resolution), either of them gzip-compressed as
// Wireshark and dumpcap can write them.
func Import(r io.Reader, o ImportOptions) (*trace.Trace, error) {
	pr, err := openCapture(r)
	if err != nil {
		return nil, err
	}
	v1keys := map[uint64][]byte{}
	for _, k := range o.Keys.IKEv1 {
		v1keys[k.ICookie] = k.EncKey
	}
	im := &importer{keys: o.Keys, v1: ikev1.NewPassive(v1keys), tr: &trace.Trace{}, seen: map[[32]byte]*trace.Event{},
		natt: map[uint16]bool{ike.PortNATT: true}, first: map[*trace.Event]*trace.Event{}, nodeAddr: map[string]netip.Addr{}, linked: map[[2]string]bool{}, otherPorts: map[uint16]bool{}, plain: map[uint16]bool{}, v1First: map[[12]byte]string{}, frags: map[fragKey]*ikev2.Reassembly{}, ikeStates: map[[2]string]ikev2.IKESAState{}}
	for _, p := range o.NATTPorts {
		im.natt[p] = true
	}
	im.nattPorts = slices.Clone(o.NATTPorts)
	var start time.Time
	for n := 1; ; n++ {
		data, ci, lt, err := pr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			im.finish()
			return im.tr, fmt.Errorf("sim: frame %d: %v", n, err)
		}
		if start.IsZero() {
			start = ci.Timestamp
		}
		ip := ipv4Of(data, lt)
		if ip == nil {
			continue // not IPv4: ARP, IPv6 and the like are not IKE's business
		}
		im.packet(n, trace.Seconds(ci.Timestamp.Sub(start)), ip)
	}
	if len(im.events) == 0 {
		return im.tr, &NoIKEError{Ports: slices.Sorted(maps.Keys(im.otherPorts))}
	}
	im.finish()
	return im.tr, nil
}

// captureReader yields the frames of a pcap or pcapng file with their link types.
type captureReader interface {
	next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
}

type pcapReader struct{ r *pcapgo.Reader }

func (p pcapReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := p.r.ReadPacketData()
	return data, ci, p.r.LinkType(), err
}

type pcapngReader struct{ r *pcapgo.NgReader }

func (p pcapngReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := p.r.ReadPacketData()
	if err != nil {
		return nil, ci, 0, err
	}
	intf, err := p.r.Interface(ci.InterfaceIndex)
	if err != nil {
		return nil, ci, 0, err
	}
	return data, ci, intf.LinkType, nil
}

// Magic numbers at the start of a capture: gzip (RFC 1952), the pcap file header in
// either byte order with microsecond or nanosecond timestamps, and the pcapng Section
// Header Block type.
var (
	gzipMagic   = []byte{0x1f, 0x8b}
	pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}
)

// openCapture looks at the first bytes of r: a gzip stream is uncompressed first, then
// the file is read as pcapng or pcap.
func openCapture(r io.Reader) (captureReader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4)
	if bytes.HasPrefix(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("sim: gzip-compressed capture: %v", err)
		}
		br = bufio.NewReader(zr)
		head, _ = br.Peek(4)
	}
	if bytes.Equal(head, pcapngMagic) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("sim: not a pcapng file: %v", err)
		}
		return pcapngReader{ng}, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("sim: not a pcap or pcapng file: %v", err)
	}
	return pcapReader{pr}, nil
}

// NoIKEError says that a capture holds no IKE or ESP datagram. Ports are the UDP ports
// of the datagrams that were not recognised: with RFC 3948 framing on them (ESP-in-UDP,
// IKE behind a non-ESP marker) they need ImportOptions.NATTPorts.
type NoIKEError struct {
	Ports []uint16
}

func (e *NoIKEError) Error() string {
	if len(e.Ports) == 0 {
		return "sim: the capture holds no IKE or ESP datagram"
	}
	return fmt.Sprintf("sim: the capture holds no IKE or ESP datagram that ikesim recognised; it has other UDP datagrams on ports %s", e.PortList())
}

// PortList is the ports, comma-separated.
func (e *NoIKEError) PortList() string {
	s := make([]string, len(e.Ports))
	for i, p := range e.Ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// ipv4Of finds the IPv4 packet in a frame of any link type gopacket knows.
func ipv4Of(data []byte, lt layers.LinkType) []byte {
	if lt == layers.LinkTypeIPv4 || lt == layers.LinkTypeRaw || lt == layers.LinkTypeIPv6 {
		if len(data) > 0 && (data[0]>>4 == 4 || data[0]>>4 == 6) {
			return data
		}
		return nil
	}
	p := gopacket.NewPacket(data, lt, gopacket.Lazy)
	if l := p.Layer(layers.LayerTypeIPv4); l != nil {
		ip := l.(*layers.IPv4)
		return append(append([]byte(nil), ip.Contents...), ip.Payload...)
	}
	if l := p.Layer(layers.LayerTypeIPv6); l != nil {
		ip := l.(*layers.IPv6)
		return append(append([]byte(nil), ip.Contents...), ip.Payload...)
	}
	return nil
}

type importer struct {
	keys ImportKeys
	v1   *ikev1.Passive
	tr   *trace.Trace
	// events are the capture's events, in order, which finish puts into tr after the
	// topology; first is the first copy of each retransmitted message.
	events []*trace.Event
	first  map[*trace.Event]*trace.Event
	// nodes are the nodes in the order they appear, with the address of each, and
	// links the pairs of nodes a datagram passed between, in the order they appear.
	nodes    []string
	nodeAddr map[string]netip.Addr
	links    [][2]string
	linked   map[[2]string]bool
	seen     map[[32]byte]*trace.Event // IKE message hash -> its first message event
	natt     map[uint16]bool           // ports with the non-ESP marker
	// nattPorts are the ports besides 4500 with the marker, for the dissection.
	nattPorts []uint16
	// ikeStates are the inferred IKE SA states by node and instance, and pending the
	// state events of the message being read, emitted after it.
	ikeStates map[[2]string]ikev2.IKESAState
	pending   []*trace.Event
	// frags reassemble IKEv2 fragments, by IKE SA and direction.
	frags map[fragKey]*ikev2.Reassembly
	// v1First is the sender of the first IKEv1 message of each exchange after phase 1,
	// by initiator cookie and message ID.
	v1First map[[12]byte]string
	// plain and ikePorts are the ports besides 500 found to carry IKE without a marker.
	plain    map[uint16]bool
	ikePorts []uint16
	// otherPorts are the ports of UDP datagrams that were neither IKE nor ESP.
	otherPorts map[uint16]bool
}

func (im *importer) packet(frame int, t trace.Seconds, pkt []byte) {
	ip, err := ipsec.ParseIP(pkt)
	if err != nil {
		return
	}
	w := &trace.Wire{From: ip.Src.String(), To: ip.Dst.String(), Src: ip.Src.String(), Dst: ip.Dst.String(), Bytes: pkt}
	e := &trace.Event{T: t, Kind: trace.KindMessage, Node: ip.Src.String(), Wire: w}
	d := ipsec.Dissector{NATTPorts: im.nattPorts, IKEPorts: im.ikePorts}
	switch ip.Protocol {
	case ipsec.ProtoESP:
		im.esp(e, ip.Payload, ip.Src, ip.Dst, &d)
	case ipsec.ProtoAH:
		im.ah(e, pkt, ip.Payload, ip.Src, ip.Dst, &d)
	case ipsec.ProtoUDP:
		u, err := ipsec.ParseUDP(ip.Payload, netip.Addr{}, netip.Addr{})
		natt := im.natt[u.SrcPort] || im.natt[u.DstPort]
		if err != nil {
			return
		}
		plain := u.SrcPort == ike.PortIKE || u.DstPort == ike.PortIKE || im.plain[u.SrcPort] || im.plain[u.DstPort]
		if !plain && !natt {
			// IKE on other ports, found by its header as tshark's heuristics do: with a
			// non-ESP marker the ports carry RFC 3948 framing (ESP too), without one
			// plain IKE.
			switch {
			case len(u.Payload) > 4 && binary.BigEndian.Uint32(u.Payload) == 0 && looksLikeIKE(u.Payload[4:]):
				im.learn(im.natt, &im.nattPorts, u.SrcPort, u.DstPort)
				natt = true
			case looksLikeIKE(u.Payload):
				im.learn(im.plain, &im.ikePorts, u.SrcPort, u.DstPort)
			default:
				im.otherPorts[u.SrcPort], im.otherPorts[u.DstPort] = true, true
				return
			}
			d = ipsec.Dissector{NATTPorts: im.nattPorts, IKEPorts: im.ikePorts}
		}
		w.Src = netip.AddrPortFrom(ip.Src, u.SrcPort).String()
		w.Dst = netip.AddrPortFrom(ip.Dst, u.DstPort).String()
		if ip.Src == ip.Dst {
			// Both ends on one address (a capture on loopback): the ports tell them apart.
			e.Node, w.From, w.To = e.Src(), e.Src(), e.Dst()
		}
		msg := u.Payload
		w.Encap = natt && !(len(msg) == 1 && msg[0] == 0xff)
		switch {
		case natt && len(msg) == 1 && msg[0] == 0xff:
			w.Proto, w.Summary = "nat-keepalive", "NAT-keepalive"
		case natt && len(msg) >= 4 && binary.BigEndian.Uint32(msg) == 0:
			im.ike(e, msg[4:], &d)
		case natt:
			im.esp(e, msg, ip.Src, ip.Dst, &d)
		default:
			im.ike(e, msg, &d)
		}
	default:
		return
	}
	e.SetDissect(func() *ike.Field { return d.IPv4(pkt) })
	im.events = append(im.events, e)
	im.sawNodes(e.From(), ip.Src, e.To(), ip.Dst)
	for _, st := range im.pending {
		st.T = e.T
		im.events = append(im.events, st)
	}
	im.pending = im.pending[:0]
}

// sawNodes notes the two ends of a datagram, nodes from and to at addresses src and dst.
func (im *importer) sawNodes(from string, src netip.Addr, to string, dst netip.Addr) {
	for _, n := range []struct {
		name string
		addr netip.Addr
	}{{from, src}, {to, dst}} {
		if _, ok := im.nodeAddr[n.name]; !ok {
			im.nodeAddr[n.name] = n.addr
			im.nodes = append(im.nodes, n.name)
		}
	}
	k := [2]string{from, to}
	if im.linked[k] || im.linked[[2]string{to, from}] {
		return
	}
	im.linked[k] = true
	im.links = append(im.links, k)
}

// finish opens the trace with a topology event for each node the capture shows, in the
// order they appear: a real IKE peer (node kind peer) with one interface, its address
// (without the prefix, which a capture does not show, as a host prefix), toward each
// node it exchanged datagrams with, on a link whose impairments are unknown. Then come
// the capture's events.
func (im *importer) finish() {
	ifaces := map[string][]trace.Iface{}
	order := make(map[string]int, len(im.nodes))
	for i, n := range im.nodes {
		order[n] = i
	}
	for _, l := range im.links {
		a, b := l[0], l[1]
		if order[b] < order[a] {
			a, b = b, a
		}
		// The link is described on its first end, as the simulator describes it.
		ifaces[a] = append(ifaces[a], trace.Iface{Prefix: hostPrefix(im.nodeAddr[a]), Peer: b, Link: &trace.Link{}})
		ifaces[b] = append(ifaces[b], trace.Iface{Prefix: hostPrefix(im.nodeAddr[b]), Peer: a})
	}
	for _, n := range im.nodes {
		im.tr.Emit(&trace.Event{Kind: trace.KindTopology, Node: n, Topology: &trace.Topology{NodeKind: "peer", Ifaces: ifaces[n]},
			Text: fmt.Sprintf("node %s: an IKE peer the capture shows at %s", n, im.nodeAddr[n])})
	}
	for _, e := range im.events {
		if first := im.first[e]; first != nil && e.Text == "" {
			e.Text = fmt.Sprintf("retransmission of message %d", first.Seq)
		}
		im.tr.Emit(e)
	}
	im.events = nil
}

// hostPrefix is the prefix of one address: a/32, or a/128 for IPv6.
func hostPrefix(a netip.Addr) string { return netip.PrefixFrom(a, a.BitLen()).String() }

// ike describes an IKE message and sets the dissector up to decrypt it.
func (im *importer) ike(e *trace.Event, msg []byte, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	if len(msg) < 28 {
		w.Proto, w.Summary = "ike", fmt.Sprintf("truncated IKE message (%d bytes)", len(msg))
		return
	}
	id := binary.BigEndian.Uint32(msg[20:24])
	w.MessageID = &id
	h := sha256.Sum256(msg)
	if first, ok := im.seen[h]; ok {
		w.Retransmit = true
		im.first[e] = first // finish says which, once it has its number
	} else {
		im.seen[h] = e
	}
	switch msg[17] >> 4 {
	case 2:
		w.Proto = "ikev2"
		im.ikev2(e, msg, d)
	case 1:
		w.Proto = "ikev1"
		im.ikev1(e, msg, d)
	default:
		w.Proto, w.Summary = "ike", fmt.Sprintf("IKE version 0x%02x", msg[17])
	}
}

func (im *importer) ikev1(e *trace.Event, msg []byte, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	m, c, initiator, err := im.v1.Read(msg, e.From())
	if m == nil {
		w.Summary = "malformed: " + err.Error()
		d.IKE = func(b []byte) *ike.Field { return ikev1.Dissect(b, nil) }
		return
	}
	w.Exchange = m.Exchange.String()
	w.Response = im.v1Response(m, msg, e.From(), initiator)
	trace.DescribeIKE(e, &ike.MessageInfo{Version: 1, Exchange: e.Exchange(), MessageID: *e.MessageID(), Response: e.Response(),
		Retransmit: e.Retransmit(), MessageFacts: ikev1.Describe(m, initiator)})
	if err != nil && !e.Retransmit() {
		e.Text = "cannot decrypt: " + err.Error()
		w.Summary += " (undecryptable)"
	}
	d.IKE = func(b []byte) *ike.Field { return ikev1.Dissect(b, c) }
}

func (im *importer) ikev2(e *trace.Event, msg []byte, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	m, err := ikev2.Parse(msg)
	if err != nil {
		w.Summary = "malformed: " + err.Error()
		d.IKE = func(b []byte) *ike.Field { return ikev2.Dissect(b, nil) }
		return
	}
	w.Exchange, w.Response = m.Exchange.String(), m.IsResponse()
	var sk *ikev2.SKCrypto
	for _, k := range im.keys.IKEv2 {
		if k.SPIi == m.SPIi && k.SPIr == m.SPIr {
			sk = skOf(k, m.FromInitiator())
		}
	}
	if f := fragmentOf(m); f != nil {
		im.ikev2Fragment(e, m, f, sk, d)
		return
	}
	if m.Encrypted() != nil {
		switch {
		case sk == nil:
			e.Text = "no keys for this IKE SA in ikev2_decryption_table: the SK payload stays encrypted"
		default:
			if err := m.Decrypt(nil, sk); err != nil {
				e.Text = "cannot decrypt the SK payload: " + err.Error()
				sk = nil
			}
		}
	}
	trace.DescribeIKE(e, &ike.MessageInfo{Version: 2, Exchange: e.Exchange(), MessageID: *e.MessageID(), Response: e.Response(),
		Retransmit: e.Retransmit(), MessageFacts: ikev2.Describe(m, !m.IsResponse())})
	if e.Text != "" && !e.Retransmit() {
		w.Summary += " (undecryptable)"
	}
	if !e.Retransmit() {
		im.ikeSAStates(e, m)
	}
	d.IKE = func(b []byte) *ike.Field { return ikev2.Dissect(b, sk) }
}

// looksLikeIKE reports whether b starts with an IKE header that describes b: a non-zero
// initiator SPI, version 1.0 or 2.0, an exchange type of that version, and a length that
// is b's.
//
// RFC 7296, Section 3.1; RFC 2408, Section 3.1
func looksLikeIKE(b []byte) bool {
	if len(b) < 28 || binary.BigEndian.Uint64(b) == 0 || int(binary.BigEndian.Uint32(b[24:])) != len(b) {
		return false
	}
	switch x := b[18]; b[17] {
	case 0x20:
		return x >= 34 && x <= 43
	case 0x10:
		return (x >= 1 && x <= 6) || x == 32 || x == 33
	}
	return false
}

// learn adds the ports of a datagram that turned out to carry IKE to a set and its list.
func (im *importer) learn(set map[uint16]bool, list *[]uint16, ports ...uint16) {
	for _, p := range ports {
		if !set[p] {
			set[p] = true
			*list = append(*list, p)
		}
	}
}

// fragmentOf is the SKF payload of a message, or nil.
func fragmentOf(m *ikev2.Message) *ikev2.EncryptedFragment {
	for _, p := range m.Payloads {
		if f, ok := p.(*ikev2.EncryptedFragment); ok {
			return f
		}
	}
	return nil
}

// ikev2Fragment describes an IKEv2 fragment (RFC 7383) and reassembles the message with
// the engine's own reassembly: the last fragment shows the whole message, its payloads in
// the summary and the dissection, as the receiver reads it (and as tshark shows it).
func (im *importer) ikev2Fragment(e *trace.Event, m *ikev2.Message, f *ikev2.EncryptedFragment, sk *ikev2.SKCrypto, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	describe := func() {
		trace.DescribeIKE(e, &ike.MessageInfo{Version: 2, Exchange: e.Exchange(), MessageID: *e.MessageID(), Response: e.Response(),
			Retransmit: e.Retransmit(), MessageFacts: ikev2.Describe(m, !m.IsResponse())})
	}
	describe() // HDR, SKF(n/total)
	tag := e.Summary()
	d.IKE = func(b []byte) *ike.Field { return ikev2.Dissect(b, sk) }
	if sk == nil {
		e.Text = "no keys for this IKE SA in ikev2_decryption_table: the fragment stays encrypted"
		w.Summary += " (undecryptable)"
		return
	}
	if e.Retransmit() {
		return // its first copy is in the reassembly already
	}
	k := fragKey{m.SPIi, m.SPIr, m.FromInitiator()}
	r := im.frags[k]
	if r == nil {
		r = &ikev2.Reassembly{}
		im.frags[k] = r
	}
	whole, err := r.Add(m, f, sk)
	switch {
	case err != nil:
		e.Text = "cannot take the fragment: " + err.Error()
		w.Summary += " (undecryptable)"
	case whole != nil:
		dissect := whole.Whole(m, sk, nil)
		d.IKE = func([]byte) *ike.Field { return dissect() }
		describe() // the whole message's facts: HDR, SK {...}
		w.Summary = tag + " " + strings.TrimPrefix(e.Summary(), "HDR, SK ")
		im.ikeSAStates(e, m)
	}
}

// ikeSAStates infers the state changes of the two ends' IKE SA from an IKEv2 message, as
// the engines (and strongSwan) name the states, so that a capture draws as a states view
// too. Only what the messages show: the initiator connects with its IKE_SA_INIT request;
// the IKE_AUTH response establishes both ends, unless it carries an error notification;
// an INFORMATIONAL request with a Delete of the IKE SA puts its sender into DELETING, and
// its response destroys the SA at both ends; an IKE SA first seen in another exchange
// (made by a rekey) is established. An IKE SA's instance is its initiator's SPI.
func (im *importer) ikeSAStates(e *trace.Event, m *ikev2.Message) {
	var inner []ikev2.Payload
	if sk := m.Encrypted(); sk != nil && sk.Decrypted {
		inner = sk.Inner
	}
	instance := fmt.Sprintf("%016x", m.SPIi)
	set := func(node string, to ikev2.IKESAState) {
		k := [2]string{node, instance}
		from := im.ikeStates[k] // IKESACreated when not seen yet
		if from == to || from == ikev2.IKESADestroyed {
			return
		}
		im.ikeStates[k] = to
		im.pending = append(im.pending, &trace.Event{Kind: trace.KindState, Node: node,
			StateFacts: &trace.StateFacts{Machine: "IKE SA " + instance, MachineKind: "IKE SA", Instance: instance,
				SAType: ike.SATypeIKE, FromState: from.String(), ToState: to.String()},
			Text: fmt.Sprintf("%s → %s, as the %s %s shows", from, to, m.Exchange, map[bool]string{false: "request", true: "response"}[m.IsResponse()])})
	}
	if m.Exchange != ikev2.IKE_SA_INIT && m.Exchange != ikev2.IKE_AUTH {
		// An IKE SA first seen in a later exchange was made by a rekey (or before the
		// capture began): it is established at both ends.
		for _, node := range []string{e.From(), e.To()} {
			if _, seen := im.ikeStates[[2]string{node, instance}]; !seen {
				set(node, ikev2.IKESAEstablished)
			}
		}
	}
	switch {
	case m.Exchange == ikev2.IKE_SA_INIT && !m.IsResponse():
		set(e.From(), ikev2.IKESAConnecting)
	case m.Exchange == ikev2.IKE_AUTH && m.IsResponse() && inner != nil:
		to := ikev2.IKESAEstablished
		for _, p := range inner {
			if n, ok := p.(*ikev2.Notify); ok && n.Type.IsError() {
				to = ikev2.IKESADestroyed
			}
		}
		set(e.To(), to)
		set(e.From(), to)
	case m.Exchange == ikev2.INFORMATIONAL:
		for _, p := range inner {
			if d, ok := p.(*ikev2.Delete); ok && d.Protocol == ike.ProtoIKE {
				if m.IsResponse() {
					set(e.To(), ikev2.IKESADestroyed)
					set(e.From(), ikev2.IKESADestroyed)
				} else {
					set(e.From(), ikev2.IKESADeleting)
				}
			}
		}
		if m.IsResponse() && im.ikeStates[[2]string{e.To(), instance}] == ikev2.IKESADeleting {
			set(e.To(), ikev2.IKESADestroyed)
			set(e.From(), ikev2.IKESADestroyed)
		}
	}
}

// fragKey names the messages of one direction of one IKE SA.
type fragKey struct {
	spiI, spiR    uint64
	fromInitiator bool
}

// v1Response tells an IKEv1 response from a request by its exchange, not by the sender's
// role in the ISAKMP SA: in phase 1 (message ID 0) the ISAKMP initiator sends the
// requests; in every later exchange (Quick Mode, Transaction, Informational) whoever
// sent the first message with that message ID did, and the other side answers. So the
// XAUTH CFG_REQUEST and CFG_SET of a gateway are requests, the client's CFG_REPLY and
// CFG_ACK responses. A DPD R-U-THERE-ACK travels in an Informational exchange of its own
// but answers an R-U-THERE (RFC 3706, Section 5.1): it is a response.
func (im *importer) v1Response(m *ikev1.Message, msg []byte, from string, saInitiator bool) bool {
	if binary.BigEndian.Uint32(msg[20:24]) == 0 {
		return !saInitiator
	}
	for _, p := range m.Payloads {
		if n, ok := p.(*ikev1.Notify); ok && n.Type == ikev1.R_U_THERE_ACK {
			return true
		}
	}
	var k [12]byte
	copy(k[:8], msg[:8]) // initiator cookie
	copy(k[8:], msg[20:24])
	first, ok := im.v1First[k]
	if !ok {
		im.v1First[k] = from
		return false
	}
	return first != from
}

// skOf turns a key table record into the keys of one direction.
func skOf(k ike.IKEv2Keys, fromInitiator bool) *ikev2.SKCrypto {
	encr, integ := ike.Encr(k.Encr), ike.Integ(k.Integ)
	if encr == nil {
		return nil
	}
	if k.AnyICV != 0 {
		integ = ike.UncheckedICV(k.AnyICV)
	}
	sk := &ikev2.SKCrypto{Encr: encr, EncrKeyBits: k.EncrKeyBits, Integ: integ}
	if fromInitiator {
		sk.EncrKey, sk.IntegKey = k.SKei, k.SKai
	} else {
		sk.EncrKey, sk.IntegKey = k.SKer, k.SKar
	}
	return sk
}

// esp describes an ESP packet and gives the dissector its SA, when the table has it.
func (im *importer) esp(e *trace.Event, b []byte, src, dst netip.Addr, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	w.Proto = "esp"
	if len(b) < 8 {
		w.Summary = "truncated ESP"
		return
	}
	spi, seq := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	w.Summary = fmt.Sprintf("ESP SPI 0x%08x seq %d", spi, seq)
	w.SPI = fmt.Sprintf("%08x", spi)
	sa := im.saOf(spi, src, dst, false)
	if sa == nil {
		w.Summary += " (no key in esp_sa)"
		return
	}
	d.SA = func(uint32, netip.Addr) *ipsec.SA { return sa }
	if inner := innerOf(ipsec.DissectESP(b, sa)); inner != "" {
		w.Summary += " {" + inner + "}"
	}
}

// saOf makes the SA that opens an ESP packet (or verifies an AH one) of SPI spi from
// src to dst, from the first record of esp_sa that matches them as tshark matches its
// records: source, destination and SPI, each with wildcards. It is nil when no record
// matches or ikesim lacks the record's algorithm.
func (im *importer) saOf(spi uint32, src, dst netip.Addr, ah bool) *ipsec.SA {
	for _, k := range im.keys.ESP {
		if k.AH != ah || !k.MatchSPI(spi) || !k.Src.Match(src) || !k.Dst.Match(dst) {
			continue
		}
		integ := ike.Integ(k.Integ)
		if k.AnyICV != 0 {
			integ = ike.UncheckedICV(k.AnyICV)
		}
		sa := &ipsec.SA{SPI: spi, Src: src, Dst: dst, Encr: ike.Encr(k.Encr), EncrKeyBits: k.EncrKeyBits, EncrKey: k.EncrKey,
			Integ: integ, IntegKey: k.IntegKey, Mode: ipsec.Tunnel, WindowSize: -1,
			Rand: rand.NewChaCha8([32]byte{})} // only opened, never sealed: no IV is drawn
		if ah {
			sa.Protocol = ipsec.ProtoAH
		} else if sa.Encr == nil {
			return nil
		}
		return sa
	}
	return nil
}

// ah describes an AH packet (RFC 4302, Section 2): AH needs no key to be read, and with
// the AH keys that ikesim lines of esp_sa give, its ICV is verified and the summary
// says how it went. The ESP of an AH+ESP bundle inside it opens with esp_sa's keys.
func (im *importer) ah(e *trace.Event, pkt, b []byte, src, dst netip.Addr, d *ipsec.Dissector) {
	w := trace.WireOf(e)
	w.Proto, w.Summary = "ah", "truncated AH"
	if len(b) < 12 {
		return
	}
	spi := binary.BigEndian.Uint32(b[4:])
	w.SPI = fmt.Sprintf("%08x", spi)
	w.Summary = fmt.Sprintf("AH SPI 0x%s seq %d, Next Header %s", e.SPI(), binary.BigEndian.Uint32(b[8:]), ipsec.ProtoName(b[0]))
	ah := im.saOf(spi, src, dst, true)
	d.SA = func(s uint32, _ netip.Addr) *ipsec.SA {
		if s == spi && ah != nil {
			return ah
		}
		return im.saOf(s, src, dst, false)
	}
	var hdr, icv *ike.Field // the outer AH header and its ICV
	d.IPv4(pkt).Walk(func(g *ike.Field, _ int) {
		if hdr == nil && g.Name == "AH" {
			hdr = g
		}
	})
	if hdr == nil {
		return
	}
	for _, g := range hdr.Children {
		if g.Name == "ICV" {
			icv = g
		}
	}
	switch {
	case ah == nil:
		w.Summary += " (no key in esp_sa: ICV not verified)"
	case icv != nil && icv.Error != "":
		w.Summary += " (ICV mismatch)"
		e.Text = "AH: " + icv.Error
	case icv != nil && ah.Integ != nil && ah.Integ.New != nil: // a MAC checked it (not ike.UncheckedICV)
		w.Summary += " (ICV verified)"
	}
	if inner := innerOf(hdr); inner != "" {
		w.Summary += " {" + inner + "}"
	}
}

// innerOf summarizes the decrypted inner packet of an ESP dissection.
func innerOf(f *ike.Field) string {
	var s string
	f.Walk(func(g *ike.Field, _ int) {
		if s == "" && (g.Name == "IPv4" || g.Name == "IPv6") && g != f {
			s = g.Value
		}
	})
	return s
}
