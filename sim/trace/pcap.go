package trace

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/ikesim/ikesim/ike"
)

// WritePcap writes the datagrams of a trace as a raw IPv4 pcap (LINKTYPE_IPV4), or as a
// raw IP pcap (LINKTYPE_RAW) when the trace holds an IPv6 datagram, timestamped with
// virtual time from Epoch. Each packet appears once, as the node that made it put it on the wire;
// with allHops, every hop of a forwarded packet appears too (as captures on every link
// would show it).
func WritePcap(tr *Trace, w io.Writer, allHops bool) error {
	pw, err := NewPcapWriter(w, allHops, linkType(tr))
	if err != nil {
		return err
	}
	for _, e := range tr.Events {
		if err := pw.Write(e); err != nil {
			return err
		}
	}
	return nil
}

// PcapWriter writes the datagrams of events as they come, as WritePcap does for a
// whole trace: a live run streams its capture with it.
type PcapWriter struct {
	w       *pcapgo.Writer
	allHops bool
}

// NewPcapWriter writes the pcap file header to w, for datagrams of link type lt: raw
// IPv4, or raw IP when there may be IPv6 among them.
func NewPcapWriter(w io.Writer, allHops bool, lt layers.LinkType) (*PcapWriter, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, lt); err != nil {
		return nil, fmt.Errorf("sim: pcap: %v", err)
	}
	return &PcapWriter{w: pw, allHops: allHops}, nil
}

// Write writes the datagram of a message event; other events write nothing.
func (p *PcapWriter) Write(e *Event) error {
	if e.Kind != KindMessage || len(e.Bytes()) == 0 || (e.Forwarded() && !p.allHops) {
		return nil
	}
	ci := gopacket.CaptureInfo{Timestamp: Epoch.Add(e.T.Duration()), CaptureLength: len(e.Bytes()), Length: len(e.Bytes())}
	if err := p.w.WritePacket(ci, e.Bytes()); err != nil {
		return fmt.Errorf("sim: pcap: %v", err)
	}
	return nil
}

// linkType is the pcap link type of a trace's datagrams: raw IPv4, or raw IP (either
// version) once one of them is IPv6, so that IPv4-only captures stay as they were.
func linkType(tr *Trace) layers.LinkType {
	for _, e := range tr.Events {
		if e.Kind == KindMessage && len(e.Bytes()) > 0 && e.Bytes()[0]>>4 == 6 {
			return layers.LinkTypeRaw
		}
	}
	return layers.LinkTypeIPv4
}

// WritePcapng writes the datagrams of a trace as pcapng, as WritePcap does, and gives
// each packet comments (opt_comment, Wireshark's frame.comment) with what the trace says
// about it: the message as ikesim summarizes it, and the narration that led to it, each
// line "node: what it did" (actions, state changes, SAs, errors, drops and timeline
// steps since the packet before). Wireshark 4.0 has no Decryption Secrets Block for IKE
// or ESP, so the key tables stay separate files.
func WritePcapng(tr *Trace, w io.Writer, allHops bool) error {
	pw, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: "ikesim", Description: "the simulated network",
		LinkType: linkType(tr), SnapLength: 65535, TimestampResolution: 9},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "ikesim"}})
	if err != nil {
		return fmt.Errorf("sim: pcapng: %v", err)
	}
	var narration []string
	var last *Event
	var lastNotes []string
	flush := func() error {
		if last == nil {
			return nil
		}
		ci := gopacket.CaptureInfo{Timestamp: Epoch.Add(last.T.Duration()), CaptureLength: len(last.Bytes()), Length: len(last.Bytes())}
		return pw.WritePacketWithOptions(ci, last.Bytes(), pcapgo.NgPacketOptions{Comments: lastNotes})
	}
	for _, e := range tr.Events {
		if e.Kind != KindMessage || len(e.Bytes()) == 0 || (e.Forwarded() && !allHops) {
			if line := narrationLine(e); line != "" {
				narration = append(narration, line)
			}
			continue
		}
		if err := flush(); err != nil {
			return fmt.Errorf("sim: pcapng: %v", err)
		}
		last, lastNotes = e, append([]string{narrationLine(e)}, narration...)
		narration = nil
	}
	lastNotes = append(lastNotes, narration...) // what happened after the last packet
	if err := flush(); err != nil {
		return fmt.Errorf("sim: pcapng: %v", err)
	}
	if err := pw.Flush(); err != nil {
		return fmt.Errorf("sim: pcapng: %v", err)
	}
	return nil
}

// narrationLine is one event in words for a packet comment, or "" for events that say
// nothing a reader of the capture needs (receptions, timers).
func narrationLine(e *Event) string {
	who := e.Node
	switch e.Kind {
	case KindMessage:
		what := e.Summary()
		if e.Exchange() != "" && !strings.HasPrefix(what, e.Exchange()) {
			dir := "request"
			if e.Response() {
				dir = "response"
			}
			what = e.Exchange() + " " + dir + " " + what
		}
		if e.Retransmit() {
			what += " (retransmission)"
		}
		if e.Forwarded() {
			return fmt.Sprintf("%s forwards %s -> %s: %s", e.Node, e.From(), e.To(), what)
		}
		return fmt.Sprintf("%s -> %s: %s", e.From(), e.To(), what)
	case KindAction:
		return who + ": " + e.Text
	case KindState:
		return fmt.Sprintf("%s: %s %s -> %s", who, e.Machine(), e.FromState(), e.ToState())
	case KindSA:
		if e.SA == nil {
			return ""
		}
		what := "IKE SA"
		if e.SA.Type == "child" {
			what = "Child SA " + e.SA.Child
		}
		s := fmt.Sprintf("%s: %s %s %s", who, what, e.Op, e.SA.Proposal)
		if e.SA.Reason != "" {
			s += " (" + e.SA.Reason + ")"
		}
		return s
	case KindError:
		return who + ": error: " + e.Text
	case KindDrop:
		return who + ": dropped: " + e.Text
	case KindInfo, KindTopology:
		if who == "" || who == ScenarioNode {
			return e.Text
		}
		return who + ": " + e.Text
	}
	return ""
}

// KeyTables are Wireshark's decryption tables for a trace, one record per line.
type KeyTables struct {
	IKEv2 []string // ikev2_decryption_table
	IKEv1 []string // ikev1_decryption_table
	ESP   []string // esp_sa, and the keys of AH SAs as ikesim lines (comments to tshark)
	// Skipped says which SAs tshark cannot decrypt, and why. Their keys are in the tables
	// all the same, as comment lines for ikesim import (ike.IkesimLinePrefix), unless
	// ikesim cannot express them either.
	Skipped []string
}

// Keys collects the key tables from the SA events of a trace (IKE SAs that never came up
// too, when their keys were made). Each SA is listed once,
// whichever of its ends reported it. ESP records use wildcard addresses, so that they
// apply on every link, before and after a NAT.
func Keys(tr *Trace) KeyTables {
	var k KeyTables
	seen := map[string]bool{}
	v1 := map[string]int{} // initiator cookie -> index in k.IKEv1
	once := func(key string) bool {
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	for _, e := range tr.Events {
		s := e.SA
		if e.Kind != KindSA || s == nil || (e.Op != "up" && !(s.Type == "ike" && len(s.SKei)+len(s.EncKey) > 0)) {
			continue
		}
		switch {
		case s.Type == "ike" && s.Version == 1:
			// One key per ISAKMP SA. Both ends derive the same one, unless their
			// pre-shared keys differ: then the initiator's decrypts what it sent.
			spi, err := strconv.ParseUint(s.SPIi, 16, 64)
			if err != nil || len(s.EncKey) == 0 {
				continue
			}
			line := ike.IKEv1Keys{ICookie: spi, EncKey: s.EncKey}.Line()
			if i, ok := v1[s.SPIi]; !ok {
				v1[s.SPIi] = len(k.IKEv1)
				k.IKEv1 = append(k.IKEv1, line)
			} else if s.Initiator {
				k.IKEv1[i] = line
			}
		case s.Type == "ike":
			spiI, err1 := strconv.ParseUint(s.SPIi, 16, 64)
			spiR, err2 := strconv.ParseUint(s.SPIr, 16, 64)
			if err1 != nil || err2 != nil || !once("v2/"+s.SPIi+s.SPIr) {
				continue
			}
			rec := ike.IKEv2Keys{SPIi: spiI, SPIr: spiR, SKei: s.SKei, SKer: s.SKer, Encr: s.Encr, EncrKeyBits: s.EncrKeyBits,
				SKai: s.SKai, SKar: s.SKar, Integ: s.Integ}
			line, err := rec.Line()
			if err != nil {
				k.Skipped = append(k.Skipped, fmt.Sprintf("IKE SA %s_i %s_r: %v", s.SPIi, s.SPIr, err))
				if line, err = rec.IkesimLine(); err != nil {
					continue
				}
			}
			k.IKEv2 = append(k.IKEv2, line)
		case s.Type == "child" && s.Protocol == "ah":
			// Wireshark's esp_sa table is for ESP alone, and tshark dissects AH
			// without keys (it does not verify AH ICVs): the keys go in as ikesim
			// lines, comments to tshark, with which ikesim import verifies the ICVs.
			for _, dir := range []struct {
				spi   string
				integ []byte
			}{{s.SPIOut, s.IntegKeyOut}, {s.SPIIn, s.IntegKeyIn}} {
				spi, err := strconv.ParseUint(dir.spi, 16, 32)
				if err != nil || !once("ah/"+dir.spi) {
					continue
				}
				line, err := ike.ESPKeys{SPI: uint32(spi), Integ: s.Integ, IntegKey: dir.integ, IPv6: is6(s.Local), AH: true}.IkesimLine()
				if err == nil {
					k.ESP = append(k.ESP, line)
				}
			}
		case s.Type == "child":
			for _, dir := range []struct {
				spi         string
				encr, integ []byte
			}{{s.SPIOut, s.EncrKeyOut, s.IntegKeyOut}, {s.SPIIn, s.EncrKeyIn, s.IntegKeyIn}} {
				spi, err := strconv.ParseUint(dir.spi, 16, 32)
				if err != nil || !once("esp/"+dir.spi) {
					continue
				}
				rec := ike.ESPKeys{SPI: uint32(spi), Encr: s.Encr, EncrKeyBits: s.EncrKeyBits, EncrKey: dir.encr,
					Integ: s.Integ, IntegKey: dir.integ, IPv6: is6(s.Local)}
				line, err := rec.Line()
				if err != nil {
					k.Skipped = append(k.Skipped, fmt.Sprintf("ESP SA 0x%s: %v", dir.spi, err))
					if line, err = rec.IkesimLine(); err != nil {
						continue
					}
				}
				k.ESP = append(k.ESP, line)
			}
		}
	}
	return k
}

// Write puts the three tables into dir (made if missing), one file each, as tshark
// reads them from a profile or from -o uat:NAME:RECORD options.
func (k KeyTables) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sim: key tables: %v", err)
	}
	var errs []error
	for name, lines := range map[string][]string{"ikev2_decryption_table": k.IKEv2, "ikev1_decryption_table": k.IKEv1, "esp_sa": k.ESP} {
		body := strings.Join(lines, "\n")
		if body != "" {
			body += "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// TsharkArgs are the options that make tshark decrypt with these tables.
func (k KeyTables) TsharkArgs() []string {
	args := []string{"-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE"}
	for _, t := range []struct {
		name  string
		lines []string
	}{{"ikev2_decryption_table", k.IKEv2}, {"ikev1_decryption_table", k.IKEv1}, {"esp_sa", k.ESP}} {
		for _, l := range t.lines {
			if !strings.HasPrefix(l, "#") { // ikesim's own lines are comments to tshark
				args = append(args, "-o", "uat:"+t.name+":"+l)
			}
		}
	}
	return args
}

// is6 reports whether an SA record's address:port is IPv6.
func is6(addrPort string) bool {
	ap, err := netip.ParseAddrPort(addrPort)
	return err == nil && ap.Addr().Is6()
}
