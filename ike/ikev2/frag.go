package ikev2

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ikesim/ikesim/ike"
)

// IKE fragmentation (RFC 7383). Peers that both announced IKEV2_FRAGMENTATION_SUPPORTED
// in IKE_SA_INIT split an encrypted message that would not fit the path into SKF
// payloads, each in its own message with the same header: the plaintext of the inner
// payloads is cut into pieces, and each piece is padded, encrypted and
// integrity-protected on its own. The receiver checks and decrypts each fragment and
// parses the payloads once it has all of them.
//
//	HDR, SKF(1/3) {IDi, CERT, ...  -->
//	HDR, SKF(2/3) {... CERT ...    -->
//	HDR, SKF(3/3) {... TSi, TSr}   -->

// defaultFragmentSize is the largest IP datagram a fragment fills when the connection
// does not say (strongSwan's default).
const defaultFragmentSize = 1280

// fragState is the fragmentation state of an IKE SA: the fragments of the last request
// and response sent (a retransmission sends the same ones), and those of the message
// being received.
type fragState struct {
	sent [2]sentFragments // by response (1) or request (0)
	// firstHash is the SHA-256 of the first fragment of the last request reassembled:
	// a retransmission of the request repeats those bytes.
	firstHash [sha256.Size]byte
	recv      Reassembly
}

// Reassembly collects the fragments of the message being received, one message at a
// time as a receiver does; the engine and a passive reader of captures share it. The zero
// value is ready.
//
// RFC 7383, Sections 2.6 and 2.7
type Reassembly struct {
	msgID    uint32
	response bool
	total    uint16
	first    PayloadType
	parts    [][]byte // plaintext pieces by fragment number - 1
	have     int
	size     int // bytes in parts
}

// Bounds on what a peer can make this side keep for one message, as strongSwan bounds
// it: at most 255 fragments (its MAX_FRAGMENTS) and, reassembled, what one UDP datagram
// can carry (strongSwan's max_packet is 10000 bytes by default).
const (
	maxFragments   = 255
	maxReassembled = 65535
)

// Reassembled is a message whose fragments are all in: the plaintext of its inner
// payloads, the type of the first, and the payloads parsed.
type Reassembled struct {
	Chain    []byte
	First    PayloadType
	Payloads []Payload
}

// Add checks and decrypts fragment f of message m with the sender's keys sk. It returns
// the whole message once its last fragment is in, and nil before. A fragment of another
// message starts over. An error says why the fragment (or, at the end, the reassembled
// message) is not taken.
func (r *Reassembly) Add(m *Message, f *EncryptedFragment, sk *SKCrypto) (*Reassembled, error) {
	if f.Number == 0 || f.Total == 0 || f.Number > f.Total {
		return nil, errors.New("invalid fragment numbering")
	}
	if f.Total > maxFragments {
		return nil, fmt.Errorf("more than %d fragments", maxFragments)
	}
	op, err := sk.open(m.Raw, skfOffset(m, f)+4)
	if err != nil || !op.icvOK {
		return nil, errors.New("its ICV does not verify")
	}
	n, err := padLength(op.plain)
	if err != nil {
		return nil, err
	}
	resp := m.IsResponse()
	if r.parts == nil || r.msgID != m.MessageID || r.response != resp || r.total != f.Total {
		*r = Reassembly{msgID: m.MessageID, response: resp, total: f.Total, parts: make([][]byte, f.Total)}
	}
	if r.parts[f.Number-1] == nil {
		piece := op.plain[:len(op.plain)-1-n]
		if r.size += len(piece); r.size > maxReassembled {
			*r = Reassembly{}
			return nil, fmt.Errorf("the fragments add up to more than %d bytes", maxReassembled)
		}
		r.parts[f.Number-1] = append([]byte{}, piece...)
		r.have++
	}
	if f.Number == 1 {
		r.first = f.FirstPayload
	}
	if r.have < int(r.total) {
		return nil, nil
	}
	var chain []byte
	for _, p := range r.parts {
		chain = append(chain, p...)
	}
	first := r.first
	*r = Reassembly{}
	ps, err := parseChain(chain, first, 0, true)
	if err != nil {
		return nil, fmt.Errorf("the reassembled message is malformed: %v", err)
	}
	return &Reassembled{Chain: chain, First: first, Payloads: ps}, nil
}

// Missing is how many fragments of the message being reassembled are still out.
func (r *Reassembly) Missing() int { return int(r.total) - r.have }

// Whole makes m, the last fragment of a reassembled message, carry the whole message's
// payloads as one decrypted SK payload, and returns its dissection: the fragment as it
// is on the wire, with the reassembled payloads below it (as tshark shows the message on
// its last fragment).
//
// cas is the receiver's trust store, which names the CAs of CERTREQ's hashes (nil: none).
func (w *Reassembled) Whole(m *Message, sk *SKCrypto, cas []*x509.Certificate) func() *ike.Field {
	m.Payloads = []Payload{&Encrypted{FirstPayload: w.First, Inner: w.Payloads, Decrypted: true}}
	raw, request := m.Raw, !m.IsResponse()
	var keys *SKCrypto
	if sk != nil {
		c := *sk
		keys = &c
	}
	return func() *ike.Field {
		root := DissectWith(raw, keys, cas)
		addReassembled(root, w.Chain, w.First, keys, request, cas)
		return root
	}
}

type sentFragments struct {
	raw   []byte // the whole message the fragments carry
	frags [][]byte
	chain []byte // its inner payloads' plaintext, for the trace
	first PayloadType
}

func (sa *ikeSA) fragmentSize() int {
	if sa.conn != nil && sa.conn.FragmentSize > 0 {
		return sa.conn.FragmentSize
	}
	return defaultFragmentSize
}

// fragmenting reports whether both sides support fragmentation.
func (sa *ikeSA) fragmenting() bool {
	return sa.conn != nil && sa.conn.Fragmentation && sa.ext.fragPeer
}

// datagramSize is the size of the IP datagram that carries an IKE message of n bytes:
// the IP and UDP headers and, on port 4500, the non-ESP marker.
func (sa *ikeSA) datagramSize(n int) int {
	n += 8 // UDP
	if sa.remote.Addr().Is4() {
		n += 20
	} else {
		n += 40
	}
	if sa.remote.Port() == ike.PortNATT || sa.local.Port() == ike.PortNATT {
		n += 4
	}
	return n
}

// sendFragments sends raw between local and remote as SKF fragments when both sides
// support fragmentation and the message is too large for one datagram. It reports
// whether it did.
func (sa *ikeSA) sendFragments(local, remote netip.AddrPort, raw []byte, info *ike.MessageInfo) bool {
	if !sa.fragmenting() || len(raw) <= HeaderLen || PayloadType(raw[16]) != PayloadSK ||
		sa.datagramSize(len(raw)) <= sa.fragmentSize() {
		return false
	}
	slot := &sa.ext.frag.sent[0]
	if raw[19]&byte(FlagResponse) != 0 {
		slot = &sa.ext.frag.sent[1]
	}
	if len(slot.raw) == 0 || &slot.raw[0] != &raw[0] {
		sf, err := sa.fragment(raw)
		if err != nil {
			sa.d.failure(sa, "", 0, ike.FailInternal, "%s: cannot fragment %s: %v", sa.name(), info.Exchange, err)
			return false
		}
		*slot = sf
		sa.d.action("The %s %s of %d bytes would make a %d-byte datagram, more than the fragment size of %d: send it as %d SKF fragments (RFC 7383)",
			info.Exchange, kindOf(info.Response), len(raw), sa.datagramSize(len(raw)), sa.fragmentSize(), len(sf.frags))
	}
	sk := sa.skOut()
	for i, f := range slot.frags {
		fi := *info
		fi.Summary = fragmentSummary(info.Summary, i+1, len(slot.frags))
		last := i == len(slot.frags)-1
		f, chain, first := f, slot.chain, slot.first
		fi.Dissect = func() *ike.Field {
			root := sa.d.lazyDissect(f, sk)()
			if last {
				addReassembled(root, chain, first, sk, !info.Response, sa.d.trustStore())
			}
			return root
		}
		sa.d.env.Transport.Send(ike.Datagram{Local: local, Remote: remote, Data: f, Info: &fi})
	}
	return true
}

func kindOf(response bool) string {
	if response {
		return "response"
	}
	return "request"
}

// fragmentSummary is the diagram label of fragment i of n: the first shows the payloads
// the message carries.
func fragmentSummary(whole string, i, n int) string {
	tag := fmt.Sprintf("SKF(%d/%d)", i, n)
	if i == 1 {
		if s, ok := strings.CutPrefix(whole, "HDR, SK "); ok {
			return "HDR, " + tag + " " + s
		}
	}
	return "HDR, " + tag
}

// fragment splits the encrypted message raw, sealed with this side's keys, into SKF
// messages that each fit the fragment size.
//
// RFC 7383, Section 2.5
func (sa *ikeSA) fragment(raw []byte) (sentFragments, error) {
	sk := sa.skOut()
	m, err := Parse(raw)
	if err != nil {
		return sentFragments{}, err
	}
	if err := m.Decrypt(raw, sk); err != nil {
		return sentFragments{}, err
	}
	e := m.Encrypted()
	chain := e.Plaintext[:len(e.Plaintext)-1-len(e.Padding)]
	// What one fragment leaves for plaintext: the datagram minus the IKE header, the SKF
	// header with its fragment fields, the IV and the ICV, rounded down to whole cipher
	// blocks, less the Pad Length byte.
	room := sa.fragmentSize() - sa.datagramSize(HeaderLen+genericHeaderLen+4+sk.Encr.IVSize+sk.icvSize())
	bs := max(sk.Encr.BlockSize, 1)
	room = room/bs*bs - 1
	if room < 1 {
		return sentFragments{}, fmt.Errorf("a fragment size of %d leaves no room for data", sa.fragmentSize())
	}
	n := (len(chain) + room - 1) / room
	if n > 0xffff {
		return sentFragments{}, fmt.Errorf("%d fragments are too many", n)
	}
	sf := sentFragments{raw: raw, chain: chain, first: e.FirstPayload}
	for i := 0; i < n; i++ {
		piece := chain[i*room : min((i+1)*room, len(chain))]
		next := PayloadNone
		if i == 0 {
			next = e.FirstPayload
		}
		hdr := append([]byte(nil), raw[:HeaderLen]...)
		hdr[16] = byte(PayloadSKF)
		skf := []byte{byte(next), 0, 0, 0, byte((i + 1) >> 8), byte(i + 1), byte(n >> 8), byte(n)}
		plain := append(append(append([]byte(nil), piece...), sk.padding(len(piece))...), byte(len(sk.padding(len(piece)))))
		f, err := sk.sealPayload(hdr, skf, plain, sa.d.env.Rand)
		if err != nil {
			return sentFragments{}, err
		}
		sf.frags = append(sf.frags, f)
	}
	return sf, nil
}

// fragmentNumber is the Fragment Number of an SKF message, 0 for other messages.
func fragmentNumber(m *Message) uint16 {
	if f := payloadOf[*EncryptedFragment](m.Payloads); f != nil {
		return f.Number
	}
	return 0
}

// skfOffset is where the SKF payload (the last one) starts in the message.
func skfOffset(m *Message, f *EncryptedFragment) int {
	return len(m.Raw) - genericHeaderLen - 4 - len(f.Ciphertext)
}

// takeFragment checks and decrypts one fragment of the message being received. It
// reports the datagram to the observer unless the message is now whole: then it puts
// the reassembled payloads into m, as a decrypted SK payload, and returns true.
//
// RFC 7383, Sections 2.6 and 2.7
func (sa *ikeSA) takeFragment(dg ike.Datagram, info *ike.MessageInfo, m *Message, f *EncryptedFragment, sk *SKCrypto) bool {
	obs := sa.d.env.Observer
	fr := &sa.ext.frag
	info.Dissect = sa.d.lazyDissect(m.Raw, sk)
	info.Summary = fmt.Sprintf("HDR, SKF(%d/%d)", f.Number, f.Total)
	dg.Info = info
	drop := func(why string) bool {
		obs.Dropped(dg, fmt.Sprintf("%s fragment %d of %d: %s", m.Exchange, f.Number, f.Total, why))
		return false
	}
	if sa.conn == nil || !sa.conn.Fragmentation {
		return drop("this side did not offer IKE fragmentation")
	}
	whole, err := fr.recv.Add(m, f, sk)
	if err != nil {
		return drop(err.Error())
	}
	resp := m.IsResponse()
	if f.Number == 1 && !resp {
		fr.firstHash = sha256.Sum256(m.Raw)
	}
	if whole == nil {
		obs.Received(dg)
		sa.d.action("Fragment %d of %d of %s %s %d verified and decrypted: wait for %d more",
			f.Number, f.Total, m.Exchange, kindOf(resp), m.MessageID, fr.recv.Missing())
		return false
	}
	info.Dissect = whole.Whole(m, sk, sa.d.trustStore())
	sa.d.action("All %d fragments of %s %s %d are in: reassemble the %d bytes of payloads", f.Total, m.Exchange, kindOf(resp),
		m.MessageID, len(whole.Chain))
	return true
}

// addReassembled adds to the dissection of a message's last fragment the payloads of
// the whole message, as the receiver reads them once every fragment is in.
func addReassembled(root *ike.Field, chain []byte, first PayloadType, sk *SKCrypto, request bool, cas []*x509.Certificate) {
	skf := root.Find("Encrypted and Authenticated Fragment")
	if skf == nil {
		return
	}
	rf := &ike.Field{Name: "Reassembled payloads", Offset: skf.Offset, Length: skf.Length, Plain: chain,
		Explain: "The payloads of the whole message, from the decrypted pieces of all its fragments in order"}
	skf.Children = append(skf.Children, rf)
	d := &dissector{msg: chain, sk: sk, request: request, cas: cas}
	d.chain(rf, chain, 0, first, true)
	var names []string
	for _, c := range rf.Children {
		names = append(names, c.Name)
	}
	rf.Value = strings.Join(names, ", ")
}

// fragment dissects the encrypted part of an SKF payload whose body starts at o: each
// fragment has its own IV and ICV, and decrypts to a piece of the inner payloads.
//
// RFC 7383, Section 2.5
func (d *dissector) fragment(pf *ike.Field, p *EncryptedFragment, o int) string {
	d.openBody(pf, p.Ciphertext, o+4, o, func(df *ike.Field, piece []byte) {
		add(df, "Fragment Data", hexValue(piece), 0, len(piece),
			"A piece of the inner payloads: the receiver parses them once it has every fragment")
	})
	return fmt.Sprintf("fragment %d of %d", p.Number, p.Total)
}
