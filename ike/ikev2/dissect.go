package ikev2

import (
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/ikesim/ikesim/ike"
)

// Dissect builds the field tree of the message b: the IKE header, then each payload with
// its generic header and body, every field with its offset and length in b and a line
// that says what it is for. With sk set, an SK payload that decrypts gets a "Decrypted
// payloads" field whose Plain holds the plaintext and whose children index it.
//
// Dissect never fails: on malformed or truncated input it shows what it could read and
// sets Error on the field where reading stopped.
func Dissect(b []byte, sk *SKCrypto) *ike.Field { return DissectWith(b, sk, nil) }

// DissectWith is Dissect for a node whose trust store is cas: a CERTREQ's CA hashes name
// the CAs they stand for.
func DissectWith(b []byte, sk *SKCrypto, cas []*x509.Certificate) *ike.Field {
	root := &ike.Field{Name: "IKEv2 message", Offset: 0, Length: len(b),
		Explain: "An Internet Key Exchange version 2 message (RFC 7296)"}
	h, ok := dissectHeader(root, b)
	if !ok {
		return root
	}
	kind := "request"
	if h.IsResponse() {
		kind = "response"
	}
	root.Value = fmt.Sprintf("%v %s, message ID %d", h.Exchange, kind, h.MessageID)
	end, ok := root.CheckLength(h.Length, len(b), HeaderLen)
	if !ok {
		return root
	}
	d := &dissector{msg: b[:end], sk: sk, request: !h.IsResponse(), ex: h.Exchange, cas: cas}
	d.chain(root, d.msg[HeaderLen:], HeaderLen, h.NextPayload, false)
	return root
}

// dissector holds what payload explanations depend on.
type dissector struct {
	msg     []byte
	sk      *SKCrypto
	cas     []*x509.Certificate // the trust store that names CERTREQ's CA hashes
	request bool                // the message comes from the initiator of its exchange
	ex      ExchangeType
}

// add appends a field with its explanation.
func add(parent *ike.Field, name, value string, off, n int, explain string) *ike.Field {
	f := parent.Add(name, value, off, n)
	f.Explain = explain
	return f
}

// addReserved adds a reserved field, which senders set to zero and receivers ignore.
func addReserved(parent *ike.Field, off, n int) {
	add(parent, "Reserved", "", off, n, "Unused: sent as zero, ignored on receipt")
}

// named shows an enumerated value with its number: "IKE_SA_INIT (34)".
func named(s fmt.Stringer, v any) string { return fmt.Sprintf("%v (%d)", s, v) }

// hexValue shows bytes as hex, shortened when long.
func hexValue(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) <= 32 {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%s... (%d bytes)", hex.EncodeToString(b[:16]), len(b))
}

// RFC 7296, Section 3.1
func dissectHeader(root *ike.Field, b []byte) (Header, bool) {
	hf := add(root, "IKE Header", "", 0, min(len(b), HeaderLen),
		"Fixed 28-byte header: which IKE SA the message belongs to, what exchange it is part of, and its place in it")
	if len(b) < HeaderLen {
		hf.Error = fmt.Sprintf("truncated: %d of %d header bytes", len(b), HeaderLen)
		root.Error = hf.Error
		return Header{}, false
	}
	var h Header
	h.SPIi = binary.BigEndian.Uint64(b[0:])
	h.SPIr = binary.BigEndian.Uint64(b[8:])
	h.NextPayload = PayloadType(b[16])
	h.Version = b[17]
	h.Exchange = ExchangeType(b[18])
	h.Flags = Flags(b[19])
	h.MessageID = binary.BigEndian.Uint32(b[20:])
	h.Length = binary.BigEndian.Uint32(b[24:])
	hf.Value = fmt.Sprintf("%v, %v", h.Exchange, h.Flags)

	add(hf, "Initiator SPI", fmt.Sprintf("%016x", h.SPIi), 0, 8,
		"Chosen by the initiator: with the responder's SPI it names this IKE SA")
	rspi := "Chosen by the responder; zero in the first IKE_SA_INIT request, when it is not known yet"
	add(hf, "Responder SPI", fmt.Sprintf("%016x", h.SPIr), 8, 8, rspi)
	add(hf, "Next Payload", named(h.NextPayload, uint8(h.NextPayload)), 16, 1, "Type of the first payload after the header")
	vf := add(hf, "Version", fmt.Sprintf("%d.%d", h.Version>>4, h.Version&0xf), 17, 1,
		"Major and minor IKE version: 2.0 for IKEv2")
	if h.Version>>4 != 2 {
		vf.Error = "not IKEv2: a receiver answers INVALID_MAJOR_VERSION"
	}
	add(hf, "Exchange Type", named(h.Exchange, uint8(h.Exchange)), 18, 1, exchangeExplain(h.Exchange))
	ff := add(hf, "Flags", fmt.Sprintf("0x%02x (%v)", uint8(h.Flags), h.Flags), 19, 1,
		"I: sent by the original initiator; V: could speak a higher version; R: this is a response")
	flag := func(name string, bit Flags, on, off string) {
		v, e := "0", off
		if h.Flags&bit != 0 {
			v, e = "1", on
		}
		add(ff, name, v, 19, 1, e)
	}
	flag("Initiator", FlagInitiator, "Sent by the original initiator of the IKE SA", "Sent by the original responder of the IKE SA")
	flag("Version", FlagVersion, "The sender could speak a higher major version", "The sender speaks no higher major version")
	flag("Response", FlagResponse, "This message is a response", "This message is a request")
	add(hf, "Message ID", fmt.Sprint(h.MessageID), 20, 4,
		"Counts the requests of each side; a response carries the ID of its request. Protects against replays")
	add(hf, "Length", fmt.Sprint(h.Length), 24, 4, "Length of the whole message in bytes, header included")
	return h, true
}

func exchangeExplain(ex ExchangeType) string {
	switch ex {
	case IKE_SA_INIT:
		return "First exchange: negotiates algorithms, exchanges Diffie-Hellman values and nonces"
	case IKE_AUTH:
		return "Second exchange: proves the identities and sets up the first Child SA, all encrypted"
	case CREATE_CHILD_SA:
		return "Creates a Child SA, or rekeys a Child SA or the IKE SA"
	case INFORMATIONAL:
		return "Carries notifications, deletes, and liveness checks (an empty one is a DPD)"
	}
	return "Exchange type"
}

// chain dissects the payloads of b, which starts at offset base of the current byte
// space (the message, or a plaintext when inner).
//
// RFC 7296, Section 3.2
func (d *dissector) chain(parent *ike.Field, b []byte, base int, first PayloadType, inner bool) {
	off := 0
	for next := first; next != PayloadNone; {
		if len(b)-off < genericHeaderLen {
			f := add(parent, next.LongName(), "", base+off, len(b)-off, payloadExplain(next, d.request))
			f.Error = fmt.Sprintf("truncated generic payload header: %d of 4 bytes", len(b)-off)
			parent.Error = f.Error
			return
		}
		np := PayloadType(b[off])
		length := int(binary.BigEndian.Uint16(b[off+2:]))
		pf := add(parent, next.LongName(), "", base+off, min(length, len(b)-off), payloadExplain(next, d.request))
		add(pf, "Next Payload", named(np, uint8(np)), base+off, 1, "Type of the payload that follows this one (0: none)")
		crit := "0"
		if b[off+1]&0x80 != 0 {
			crit = "1"
		}
		add(pf, "Critical", crit, base+off+1, 1,
			"If set, a receiver that does not know this payload type must reject the whole message")
		add(pf, "Payload Length", fmt.Sprint(length), base+off+2, 2, "Length of this payload in bytes, its 4-byte header included")
		if length < genericHeaderLen || length > len(b)-off {
			pf.Error = fmt.Sprintf("payload length %d does not fit the %d bytes left", length, len(b)-off)
			parent.Error = pf.Error
			return
		}
		body := b[off+genericHeaderLen : off+length]
		bodyOff := base + off + genericHeaderLen
		p := newPayload(next)
		if p == nil {
			p = &Unknown{Type: next, Critical: crit == "1"}
		}
		if err := p.unmarshalBody(body); err != nil {
			at := bodyOff
			var be *bodyError
			if errors.As(err, &be) {
				at += be.at
			}
			add(pf, "Data", hexValue(body), bodyOff, len(body), "The payload body, which could not be decoded")
			pf.Error = fmt.Sprintf("malformed at offset %d: %v", at, err)
		} else if ep, ok := p.(encryptedPayload); ok && inner {
			add(pf, "Data", hexValue(body), bodyOff, len(body), "The payload body, not read: encrypted payloads do not nest")
			pf.Error = "an encrypted payload inside an encrypted payload"
		} else {
			if ok {
				ep.setFirstInner(np, base+off)
			}
			pf.Value = d.body(pf, p, body, bodyOff)
		}
		off += length
		next = np
		if p.PayloadType().isEncrypted() {
			// SK and SKF end the chain: their Next Payload names what is inside them.
			next = PayloadNone
		}
	}
	if off != len(b) {
		add(parent, "Extra data", hexValue(b[off:]), base+off, len(b)-off, "Bytes after the last payload")
		parent.Error = fmt.Sprintf("%d bytes after the last payload", len(b)-off)
	}
}

func (t PayloadType) isEncrypted() bool { return t == PayloadSK || t == PayloadSKF }

// body adds the fields of a decoded payload and returns its one-line value.
func (d *dissector) body(pf *ike.Field, p Payload, body []byte, o int) string {
	switch p := p.(type) {
	case *SA:
		return d.sa(pf, p, body, o)
	case *KE:
		g := ike.TransformName(ike.Transform{Type: ike.TransformDH, ID: p.Group})
		add(pf, "DH Group Num", fmt.Sprintf("%s (%d)", g, p.Group), o, 2, "The Diffie-Hellman group the public value belongs to")
		addReserved(pf, o+2, 2)
		add(pf, "Key Exchange Data", hexValue(p.Data), o+4, len(p.Data),
			fmt.Sprintf("%s's Diffie-Hellman public value for group %s", d.side(), g))
		return g
	case *ID:
		add(pf, "ID Type", named(p.Type, uint8(p.Type)), o, 1, "How to read the identification data")
		addReserved(pf, o+1, 3)
		add(pf, "Identification Data", p.String(), o+4, len(p.Data),
			"The identity the sender claims; AUTH proves it, and the peer checks it against its configuration")
		return p.String()
	case *Cert:
		add(pf, "Cert Encoding", named(p.Encoding, uint8(p.Encoding)), o, 1, "How the certificate data is encoded")
		cd := add(pf, "Certificate Data", hexValue(p.Data), o+1, len(p.Data), "A certificate binding the sender's identity to its public key")
		if p.Encoding != CertX509Signature {
			return cd.Value
		}
		cf := ike.DissectCertificate(cd, p.Data, o+1)
		cd.Value = cf.Value
		return cf.Value
	case *CertReq:
		add(pf, "Cert Encoding", named(p.Encoding, uint8(p.Encoding)), o, 1, "The kind of certificate wanted")
		if p.Encoding == CertX509Signature && len(p.Data)%20 == 0 {
			var named []string
			for i := 0; i < len(p.Data); i += 20 {
				v := hex.EncodeToString(p.Data[i : i+20])
				if ca := ike.CAName(p.Data[i:i+20], d.cas); ca != "" {
					v += " (" + ca + ")"
					named = append(named, ca)
				}
				add(pf, "Certification Authority", v, o+1+i, 20,
					"SHA-1 hash of the public key of a CA the sender trusts: the peer should send a certificate that chains to it")
			}
			if len(named) > 0 {
				return strings.Join(named, "; ")
			}
		} else {
			add(pf, "Certification Authority", hexValue(p.Data), o+1, len(p.Data), "CAs the sender trusts")
		}
		return p.Encoding.String()
	case *Auth:
		add(pf, "Auth Method", named(p.Method, uint8(p.Method)), o, 1, "How the authentication data was computed")
		addReserved(pf, o+1, 3)
		af := add(pf, "Authentication Data", hexValue(p.Data), o+4, len(p.Data), authExplain(p.Method, d.side()))
		dissectSignature(af, p, o+4) // hook (auth_sig.go): RFC 7427's AlgorithmIdentifier
		return p.Method.String()
	case *Nonce:
		add(pf, "Nonce Data", hexValue(p.Data), o, len(p.Data),
			fmt.Sprintf("%s's random value that makes the keys of this SA fresh", d.side()))
		return fmt.Sprintf("%d bytes", len(p.Data))
	case *Notify:
		return d.notify(pf, p, o)
	case *Delete:
		add(pf, "Protocol ID", p.Protocol.String(), o, 1, "The kind of SA to delete")
		add(pf, "SPI Size", fmt.Sprint(p.SPISize), o+1, 1, "0 for the IKE SA, 4 for ESP and AH")
		add(pf, "Num of SPIs", fmt.Sprint(len(p.SPIs)), o+2, 2, "How many SAs this payload deletes")
		for i, spi := range p.SPIs {
			add(pf, "SPI", hex.EncodeToString(spi), o+4+i*len(spi), len(spi), "An SA the sender has deleted (its inbound SPI)")
		}
		if p.Protocol == ike.ProtoIKE {
			return "IKE SA"
		}
		return fmt.Sprintf("%v, %d SPIs", p.Protocol, len(p.SPIs))
	case *VendorID:
		v := hexValue(p.Data)
		if printable(p.Data) {
			v = string(p.Data)
		}
		add(pf, "Vendor ID Data", v, o, len(p.Data), "Identifies the implementation or an extension it supports")
		return v
	case *TS:
		return d.ts(pf, p, o)
	case *Encrypted:
		return d.encrypted(pf, p, body, o)
	case *CP:
		add(pf, "CFG Type", named(p.Type, uint8(p.Type)), o, 1, "Request, reply, set or acknowledge configuration")
		addReserved(pf, o+1, 3)
		at := o + 4
		for _, a := range p.Attributes {
			af := add(pf, "Attribute", a.Type.String(), at, 4+len(a.Value), "One configuration item; empty in a request that asks for it")
			add(af, "Attribute Type", named(a.Type, uint16(a.Type)), at, 2, "Which configuration item this is")
			add(af, "Length", fmt.Sprint(len(a.Value)), at+2, 2, "Length of the value; 0 asks the peer for one")
			if len(a.Value) > 0 {
				add(af, "Value", cfgValue(a), at+4, len(a.Value), "The configuration value")
				af.Value += " " + cfgValue(a)
			}
			at += 4 + len(a.Value)
		}
		return p.Type.String()
	case *EAP:
		add(pf, "Code", fmt.Sprint(p.Code()), o, 1, "1 Request, 2 Response, 3 Success, 4 Failure")
		add(pf, "Identifier", fmt.Sprint(p.Identifier()), o+1, 1, "Matches a response to its request")
		add(pf, "Length", fmt.Sprint(len(p.Message)), o+2, 2, "Length of the EAP message")
		if p.Code() == EAPRequest || p.Code() == EAPResponse {
			add(pf, "Type", fmt.Sprint(p.Type()), o+4, 1, "The EAP method (1 Identity, 4 MD5-Challenge, 26 MSCHAPv2...)")
			td := add(pf, "Type-Data", hexValue(p.Message[5:]), o+5, len(p.Message)-5, "Data of the EAP method")
			dissectEAPData(td, p, o+5) // hook (eap.go): the fields of Identity, MD5 and MSCHAPv2
		}
		return eapSummary(p)
	case *EncryptedFragment:
		add(pf, "Fragment Number", fmt.Sprint(p.Number), o, 2, "Which fragment this is, from 1")
		add(pf, "Total Fragments", fmt.Sprint(p.Total), o+2, 2, "How many fragments the message was split into")
		if d.sk != nil { // hook (frag.go): with the keys, each fragment decrypts on its own
			return d.fragment(pf, p, o)
		}
		add(pf, "Encrypted Data", hexValue(p.Ciphertext), o+4, len(p.Ciphertext),
			"IV, encrypted fragment and ICV; read after reassembly")
		return fmt.Sprintf("fragment %d of %d", p.Number, p.Total)
	case *Unknown:
		add(pf, "Data", hexValue(p.Body), o, len(p.Body), "Body of a payload type this dissector does not know")
		return fmt.Sprintf("type %d", uint8(p.Type))
	}
	return ""
}

// side is who sent the message in the words of the exchange: the initiator sends requests.
func (d *dissector) side() string {
	if d.request {
		return "Initiator"
	}
	return "Responder"
}

// RFC 7296, Sections 3.3.1 to 3.3.5. The proposal, transform and attribute lengths were
// checked by SA.unmarshalBody, so the walk below stays inside body.
func (d *dissector) sa(pf *ike.Field, p *SA, body []byte, o int) string {
	at := 0
	var first string
	for _, prop := range p.Proposals {
		plen := int(binary.BigEndian.Uint16(body[at+2:]))
		var names []string
		for _, t := range prop.Transforms {
			names = append(names, ike.TransformName(ike.Transform{Type: t.Type, ID: t.ID, KeyLen: t.KeyLen}))
		}
		summary := prop.Protocol.String() + ": " + strings.Join(names, ", ")
		if first == "" {
			first = summary
		}
		pr := add(pf, fmt.Sprintf("Proposal #%d", prop.Number), summary, o+at, plen,
			"One combination of algorithms the sender accepts (an offer) or chose (an answer)")
		add(pr, "Last Substruc", fmt.Sprint(body[at]), o+at, 1, "2 if another proposal follows, 0 for the last")
		addReserved(pr, o+at+1, 1)
		add(pr, "Proposal Length", fmt.Sprint(plen), o+at+2, 2, "Length of this proposal in bytes, its transforms included")
		add(pr, "Proposal Num", fmt.Sprint(prop.Number), o+at+4, 1, "An answer repeats the number of the proposal it chose")
		add(pr, "Protocol ID", prop.Protocol.String(), o+at+5, 1, "IKE for the IKE SA, ESP or AH for a Child SA")
		add(pr, "SPI Size", fmt.Sprint(len(prop.SPI)), o+at+6, 1,
			"0 when creating the IKE SA, 8 when rekeying it, 4 for an ESP or AH SA")
		add(pr, "Num Transforms", fmt.Sprint(len(prop.Transforms)), o+at+7, 1, "How many transforms this proposal lists")
		if len(prop.SPI) > 0 {
			add(pr, "SPI", hex.EncodeToString(prop.SPI), o+at+8, len(prop.SPI),
				"The SPI the sender wants the peer to put in packets it sends to it")
		}
		tat := at + proposalHeaderLen + len(prop.SPI)
		for i, t := range prop.Transforms {
			tlen := int(binary.BigEndian.Uint16(body[tat+2:]))
			tf := add(pr, "Transform "+t.Type.String(), names[i], o+tat, tlen, transformExplain(t.Type))
			add(tf, "Last Substruc", fmt.Sprint(body[tat]), o+tat, 1, "3 if another transform follows, 0 for the last")
			addReserved(tf, o+tat+1, 1)
			add(tf, "Transform Length", fmt.Sprint(tlen), o+tat+2, 2, "Length of this transform in bytes, its attributes included")
			add(tf, "Transform Type", fmt.Sprintf("%v (%d)", t.Type, uint8(t.Type)), o+tat+4, 1, "Which kind of algorithm this transform picks")
			addReserved(tf, o+tat+5, 1)
			id := ike.TransformName(ike.Transform{Type: t.Type, ID: t.ID})
			add(tf, "Transform ID", fmt.Sprintf("%s (%d)", id, t.ID), o+tat+6, 2, "The algorithm, by its IANA number")
			for aat := tat + transformHeaderLen; aat < tat+tlen; {
				typ, v := binary.BigEndian.Uint16(body[aat:]), int(binary.BigEndian.Uint16(body[aat+2:]))
				n := attrHeaderLen
				if typ&attrFormatTV == 0 {
					n += v
				}
				if typ&^attrFormatTV == AttrKeyLength {
					add(tf, "Key Length", fmt.Sprintf("%d bits", v), o+aat, n, "Key size of a cipher that offers several")
				} else {
					add(tf, "Attribute", fmt.Sprintf("type %d", typ&^attrFormatTV), o+aat, n, "A transform attribute this dissector does not know")
				}
				aat += n
			}
			tat += tlen
		}
		at += plen
	}
	if len(p.Proposals) > 1 {
		return fmt.Sprintf("%d proposals", len(p.Proposals))
	}
	return first
}

func transformExplain(t ike.TransformType) string {
	switch t {
	case ike.TransformENCR:
		return "Cipher that encrypts the traffic"
	case ike.TransformPRF:
		return "Pseudorandom function that derives the keys"
	case ike.TransformINTEG:
		return "Integrity algorithm that detects tampering"
	case ike.TransformDH:
		return "Diffie-Hellman group for the key exchange"
	case ike.TransformESN:
		return "Whether ESP uses 64-bit extended sequence numbers"
	}
	return ""
}

// RFC 7296, Section 3.10
func (d *dissector) notify(pf *ike.Field, p *Notify, o int) string {
	proto := "none"
	if p.Protocol != 0 {
		proto = p.Protocol.String()
	}
	add(pf, "Protocol ID", proto, o, 1, "The kind of SA the SPI names; none when there is no SPI")
	add(pf, "SPI Size", fmt.Sprint(len(p.SPI)), o+1, 1, "Length of the SPI; 0 when the notification concerns no particular SA")
	kind := "Status"
	if p.Type.IsError() {
		kind = "Error"
	}
	add(pf, "Notify Message Type", fmt.Sprintf("%s (%d)", p.Type.String(), uint16(p.Type)), o+2, 2,
		kind+" notification: "+p.Type.Explain())
	at := o + 4
	if len(p.SPI) > 0 {
		add(pf, "SPI", hex.EncodeToString(p.SPI), at, len(p.SPI), "The SA this notification concerns")
		at += len(p.SPI)
	}
	if len(p.Data) > 0 {
		add(pf, "Notification Data", notifyData(p), at, len(p.Data), notifyDataExplain(p.Type))
	}
	return p.Type.String()
}

func notifyData(p *Notify) string {
	switch p.Type {
	case INVALID_KE_PAYLOAD:
		if len(p.Data) == 2 {
			g := binary.BigEndian.Uint16(p.Data)
			return fmt.Sprintf("%s (%d)", ike.TransformName(ike.Transform{Type: ike.TransformDH, ID: g}), g)
		}
	case SIGNATURE_HASH_ALGORITHMS:
		if len(p.Data)%2 == 0 {
			var names []string
			for i := 0; i < len(p.Data); i += 2 {
				names = append(names, hashAlgName(binary.BigEndian.Uint16(p.Data[i:])))
			}
			return strings.Join(names, ", ")
		}
	case UNSUPPORTED_CRITICAL_PAYLOAD:
		if len(p.Data) == 1 {
			return named(PayloadType(p.Data[0]), p.Data[0])
		}
	case SET_WINDOW_SIZE:
		if len(p.Data) == 4 {
			return fmt.Sprint(binary.BigEndian.Uint32(p.Data))
		}
	case ADDITIONAL_IP4_ADDRESS, ADDITIONAL_IP6_ADDRESS:
		if a, ok := netip.AddrFromSlice(p.Data); ok {
			return a.String()
		}
	}
	return hexValue(p.Data)
}

func notifyDataExplain(t NotifyType) string {
	switch t {
	case NAT_DETECTION_SOURCE_IP, NAT_DETECTION_DESTINATION_IP:
		return "SHA-1 of SPIi, SPIr, IP address and port"
	case COOKIE:
		return "Opaque value the initiator must send back unchanged"
	case INVALID_KE_PAYLOAD:
		return "The Diffie-Hellman group the responder wants"
	case SIGNATURE_HASH_ALGORITHMS:
		return "Hash algorithms the sender supports for signatures (RFC 7427; Identity, 5, from RFC 8420: the signature scheme hashes by itself, as Ed25519 does)"
	}
	return "Data of the notification"
}

// hashAlgName names the IKEv2 hash algorithms of RFC 7427, Section 7.
func hashAlgName(id uint16) string {
	names := map[uint16]string{1: "SHA1", 2: "SHA2_256", 3: "SHA2_384", 4: "SHA2_512", 5: "Identity"}
	if n, ok := names[id]; ok {
		return n
	}
	return fmt.Sprintf("HASH(%d)", id)
}

// RFC 7296, Section 3.13
func (d *dissector) ts(pf *ike.Field, p *TS, o int) string {
	add(pf, "Number of TSs", fmt.Sprint(len(p.Selectors)), o, 1, "How many traffic selectors follow")
	addReserved(pf, o+1, 3)
	at := o + 4
	var all []string
	for i, ts := range p.Selectors {
		n := tsHeaderLen + len(ts.Data)
		if ts.Type == TSIPv4AddrRange || ts.Type == TSIPv6AddrRange {
			n = tsHeaderLen + 4 + 2*ts.StartAddr.BitLen()/8
		}
		all = append(all, ts.String())
		tf := add(pf, fmt.Sprintf("Traffic Selector #%d", i+1), ts.String(), at, n,
			"Packets with addresses, protocol and ports in these ranges go through the Child SA")
		add(tf, "TS Type", named(ts.Type, uint8(ts.Type)), at, 1, "IPv4 or IPv6 address range")
		add(tf, "IP Protocol ID", fmt.Sprint(ts.IPProtocol), at+1, 1, "0 means any protocol")
		add(tf, "Selector Length", fmt.Sprint(n), at+2, 2, "Length of this selector in bytes")
		if ts.Type == TSIPv4AddrRange || ts.Type == TSIPv6AddrRange {
			size := ts.StartAddr.BitLen() / 8
			add(tf, "Start Port", fmt.Sprint(ts.StartPort), at+4, 2, "Lowest port of the range")
			add(tf, "End Port", fmt.Sprint(ts.EndPort), at+6, 2, "0-65535 means any port")
			add(tf, "Starting Address", ts.StartAddr.String(), at+8, size, "Lowest address of the range")
			add(tf, "Ending Address", ts.EndAddr.String(), at+8+size, size, "Highest address of the range")
		} else {
			add(tf, "Selector Data", hexValue(ts.Data), at+4, len(ts.Data), "Body of a selector type this dissector does not read")
		}
		at += n
	}
	return strings.Join(all, "; ")
}

// encrypted dissects an SK payload and, with keys, what it hides.
//
// RFC 7296, Section 3.14
func (d *dissector) encrypted(pf *ike.Field, e *Encrypted, body []byte, o int) string {
	return d.openBody(pf, body, o, e.offset, func(df *ike.Field, payloads []byte) {
		d.chain(df, payloads, 0, e.FirstPayload, true)
	})
}

// openBody dissects the IV, ciphertext and ICV of an SK payload, or of an SKF
// payload after its fragment fields, whose body starts at offset o; at is where open
// finds it (the offset of the SK generic header). show dissects the decrypted payload
// bytes.
func (d *dissector) openBody(pf *ike.Field, body []byte, o, at int, show func(df *ike.Field, payloads []byte)) string {
	if d.sk == nil {
		add(pf, "Encrypted Data", hexValue(body), o, len(body),
			"IV, encrypted payloads and integrity check; readable only with the keys of this IKE SA (SK_e, and SK_a unless the cipher is AEAD)")
		return "encrypted"
	}
	if err := d.sk.check(); err != nil {
		add(pf, "Encrypted Data", hexValue(body), o, len(body), "IV, encrypted payloads and integrity check")
		pf.Error = err.Error()
		return "encrypted"
	}
	op, err := d.sk.open(d.msg, at)
	if op == nil {
		add(pf, "Encrypted Data", hexValue(body), o, len(body), "IV, encrypted payloads and integrity check")
		pf.Error = err.Error()
		return "cannot decrypt"
	}
	add(pf, "Initialization Vector", hexValue(op.iv), o, len(op.iv),
		"Random value that makes the same plaintext encrypt differently each time")
	add(pf, "Encrypted Data", hexValue(op.ciphertext), o+len(op.iv), len(op.ciphertext),
		"The inner payloads, padding and pad length, encrypted with SK_e")
	icv := "correct"
	switch {
	case !op.icvOK:
		icv = "incorrect"
	case op.unchecked:
		icv = "not checked: the key table gives no integrity algorithm"
	}
	icvExplain := "Truncated MAC with SK_a over the whole message: proves it was not altered"
	if d.sk.Encr.AEAD() {
		icvExplain = "The AEAD cipher's authentication tag, computed with SK_e over the IKE header and the SK payload header (associated data) and the encrypted data; there is no SK_a (RFC 5282)"
	}
	icf := add(pf, "Integrity Checksum Data", hexValue(op.icv)+" ["+icv+"]", o+len(body)-len(op.icv), len(op.icv), icvExplain)
	if !op.icvOK {
		icf.Error = "integrity check failed: the message was altered or the keys are wrong"
	}
	if err != nil {
		pf.Error = err.Error()
		return "cannot decrypt"
	}
	plain := op.plain
	df := &ike.Field{Name: "Decrypted payloads", Offset: o + len(op.iv), Length: len(op.ciphertext), Plain: plain,
		Explain: "What the SK payload hides, as the receiver sees it after decryption"}
	pf.Children = append(pf.Children, df)
	n, err := padLength(plain)
	if err != nil {
		df.Error = err.Error()
		return "decrypted"
	}
	payloads := plain[:len(plain)-1-n]
	show(df, payloads)
	if n > 0 {
		add(df, "Padding", hexValue(plain[len(payloads):len(plain)-1]), len(payloads), n,
			"Fills the plaintext up to a multiple of the cipher's block size")
	}
	add(df, "Pad Length", fmt.Sprint(n), len(plain)-1, 1, "How many padding bytes precede this one")
	var names []string
	for _, c := range df.Children {
		if c.Name != "Padding" && c.Name != "Pad Length" {
			names = append(names, c.Name)
		}
	}
	df.Value = strings.Join(names, ", ")
	if !op.icvOK {
		return "ICV incorrect"
	}
	return "decrypted"
}

func payloadExplain(t PayloadType, request bool) string {
	switch t {
	case PayloadSA:
		if request {
			return "The algorithms the initiator offers"
		}
		return "The algorithms the responder chose from the offer"
	case PayloadKE:
		return "Diffie-Hellman public value: both sides combine them into a shared secret no eavesdropper can compute"
	case PayloadIDi, PayloadIDr:
		return "Who the sender claims to be"
	case PayloadCERT:
		return "A certificate for the sender's public key"
	case PayloadCERTREQ:
		return "Asks the peer for a certificate from one of the CAs listed"
	case PayloadAUTH:
		return "Proves the sender's identity and that it saw the IKE_SA_INIT messages unaltered"
	case PayloadNonce:
		return "Random value that makes the keys of this SA fresh"
	case PayloadNotify:
		return "A status or error notification"
	case PayloadDelete:
		return "Tells the peer which SAs the sender has deleted"
	case PayloadVendor:
		return "Vendor-specific capability or identification"
	case PayloadTSi:
		return "Traffic selectors for the initiator's side of the Child SA"
	case PayloadTSr:
		return "Traffic selectors for the responder's side of the Child SA"
	case PayloadSK:
		return "Encrypted and integrity-protected payloads"
	case PayloadCP:
		return "Configuration request or reply, e.g. an internal address for a remote-access client"
	case PayloadEAP:
		return "An EAP message for EAP authentication"
	case PayloadSKF:
		return "One fragment of an encrypted message (RFC 7383)"
	}
	return "A payload of a type this dissector does not know"
}

func authExplain(m AuthMethod, side string) string {
	if m == AuthSharedKeyMIC {
		return fmt.Sprintf("prf(prf(Shared Secret, \"Key Pad for IKEv2\"), %s's signed octets): proves knowledge of the pre-shared key", side)
	}
	if m == AuthDigitalSignature {
		return fmt.Sprintf("A length byte, the ASN.1 AlgorithmIdentifier of the signature scheme, then the signature over the %s's signed octets with its private key (RFC 7427, Section 3)", side)
	}
	return fmt.Sprintf("Signature over the %s's signed octets with its private key", side)
}

func cfgValue(a CfgAttribute) string {
	if ip, ok := netip.AddrFromSlice(a.Value); ok {
		return ip.String()
	}
	if len(a.Value) == 17 {
		if ip, ok := netip.AddrFromSlice(a.Value[:16]); ok {
			return fmt.Sprintf("%v/%d", ip, a.Value[16])
		}
	}
	if len(a.Value) == 8 {
		if ip, ok := netip.AddrFromSlice(a.Value[:4]); ok {
			return fmt.Sprintf("%v/%v", ip, netip.AddrFrom4([4]byte(a.Value[4:])))
		}
	}
	if printable(a.Value) {
		return string(a.Value)
	}
	return hexValue(a.Value)
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range string(b) {
		if c == unicode.ReplacementChar || !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}
