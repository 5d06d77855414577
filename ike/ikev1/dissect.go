package ikev1

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"github.com/ikesim/ikesim/ike"
)

// Dissect builds the field tree of the ISAKMP message b: the header, then each payload
// with its generic header and body, every field with its offset and length in b and a
// line that says what it is for. With c set, the payloads of an encrypted message are
// decrypted: a "Decrypted payloads" field holds the plaintext in Plain and its children
// index it.
//
// Dissect never fails: on malformed or truncated input it shows what it could read and
// sets Error on the field where reading stopped. Decrypting with a wrong key or IV shows
// as malformed payloads, which is what a receiver with the wrong pre-shared key sees.
func Dissect(b []byte, c *Crypto) *ike.Field {
	root := &ike.Field{Name: "ISAKMP message", Length: len(b),
		Explain: "An IKEv1 message: the ISAKMP header (RFC 2408) and its payloads"}
	h, ok := dissectHeader(root, b)
	if !ok {
		return root
	}
	root.Value = fmt.Sprintf("%v, message ID 0x%08x", h.Exchange, h.MessageID)
	end, ok := root.CheckLength(h.Length, len(b), HeaderLen)
	if !ok {
		return root
	}
	d := &dissector{ex: h.Exchange}
	if !h.Encrypted() {
		n := d.chain(root, b[HeaderLen:end], HeaderLen, h.NextPayload)
		switch pad := end - HeaderLen - n; {
		case pad == 0 || root.Error != "":
		case pad <= MaxClearPadding:
			add(root, "Padding", hexShort(b[HeaderLen+n:end]), HeaderLen+n, pad,
				"Aligns the message to a multiple of 4 octets (libreswan pads every IKEv1 message so); the receiver ignores it")
		default:
			root.Error = fmt.Sprintf("%d bytes after the last payload", pad)
		}
		return root
	}
	d.encrypted(root, b[:end], h, c)
	return root
}

type dissector struct {
	ex    ExchangeType
	proto ProtocolID // the protocol of the proposal being dissected
}

func add(parent *ike.Field, name, value string, off, n int, explain string) *ike.Field {
	return parent.AddExplained(name, value, off, n, explain)
}

func reserved(parent *ike.Field, off, n int) {
	add(parent, "Reserved", "", off, n, "Unused: sent as zero")
}

var hexShort = ike.HexShort

// RFC 2408, Section 3.1
func dissectHeader(root *ike.Field, b []byte) (Header, bool) {
	hf := add(root, "ISAKMP Header", "", 0, min(len(b), HeaderLen),
		"Fixed 28-byte header: the cookies name the ISAKMP SA, then the exchange, flags and message ID")
	if len(b) < HeaderLen {
		hf.Error = fmt.Sprintf("truncated: %d of %d header bytes", len(b), HeaderLen)
		root.Error = hf.Error
		return Header{}, false
	}
	h := Header{ICookie: binary.BigEndian.Uint64(b), RCookie: binary.BigEndian.Uint64(b[8:]),
		NextPayload: PayloadType(b[16]), Version: b[17], Exchange: ExchangeType(b[18]), Flags: Flags(b[19]),
		MessageID: binary.BigEndian.Uint32(b[20:]), Length: binary.BigEndian.Uint32(b[24:])}
	hf.Value = fmt.Sprintf("%v, flags %v", h.Exchange, h.Flags)
	add(hf, "Initiator Cookie", fmt.Sprintf("%016x", h.ICookie), 0, 8,
		"Chosen by the initiator: with the responder cookie it names the ISAKMP SA (and keys Wireshark's decryption table)")
	add(hf, "Responder Cookie", fmt.Sprintf("%016x", h.RCookie), 8, 8,
		"Chosen by the responder; zero in the very first message, when it is not known yet")
	add(hf, "Next Payload", fmt.Sprintf("%v (%d)", h.NextPayload, uint8(h.NextPayload)), 16, 1,
		"Type of the first payload after the header")
	vf := add(hf, "Version", fmt.Sprintf("%d.%d", h.Version>>4, h.Version&0xf), 17, 1, "Major and minor ISAKMP version: 1.0 for IKEv1")
	if h.Version>>4 != 1 {
		vf.Error = "not IKEv1: a receiver answers INVALID-MAJOR-VERSION"
	}
	add(hf, "Exchange Type", fmt.Sprintf("%v (%d)", h.Exchange, uint8(h.Exchange)), 18, 1, exchangeExplain(h.Exchange))
	ff := add(hf, "Flags", fmt.Sprintf("0x%02x (%v)", uint8(h.Flags), h.Flags), 19, 1,
		"E: the payloads are encrypted; C: commit; A: authentication only")
	for _, fl := range []struct {
		name    string
		bit     Flags
		on, off string
	}{{"Encryption", FlagEncryption, "Everything after the header is encrypted with the ISAKMP SA's key", "The payloads travel in clear"},
		{"Commit", FlagCommit, "The peer must wait for the sender's CONNECTED notification before it uses the SA", "No commit"},
		{"Authentication Only", FlagAuthOnly, "Authenticated but not encrypted", "Not authentication-only"}} {
		v, e := "0", fl.off
		if h.Flags&fl.bit != 0 {
			v, e = "1", fl.on
		}
		add(ff, fl.name, v, 19, 1, e)
	}
	add(hf, "Message ID", fmt.Sprintf("0x%08x", h.MessageID), 20, 4,
		"Zero in phase 1; a random value names each later exchange and feeds its first IV")
	add(hf, "Length", fmt.Sprint(h.Length), 24, 4, "Length of the whole message in bytes, header included")
	return h, true
}

func exchangeExplain(ex ExchangeType) string {
	switch ex {
	case ExchangeMain:
		return "Phase 1 in six messages: SA, then Diffie-Hellman and nonces, then the identities encrypted"
	case ExchangeAggressive:
		return "Phase 1 in three messages: faster, but the identities travel in clear"
	case ExchangeQuick:
		return "Phase 2: negotiates IPsec SAs under the protection of the ISAKMP SA"
	case ExchangeInformational:
		return "One-way notifications and deletes (and DPD R-U-THERE / ACK)"
	case ExchangeTransaction:
		return "Mode Config and XAUTH: configuration attributes and user authentication"
	}
	return "Exchange type"
}

// encrypted dissects the encrypted payloads of an ISAKMP message and, with keys, what
// they hide.
//
// RFC 2408, Section 3.1; RFC 2409, Appendix B
func (d *dissector) encrypted(root *ike.Field, b []byte, h Header, c *Crypto) {
	body := b[HeaderLen:]
	ef := add(root, "Encrypted Data", fmt.Sprintf("%d bytes", len(body)), HeaderLen, len(body),
		"All payloads after the header, encrypted in CBC mode with the key derived from SKEYID_e")
	if c == nil {
		return
	}
	if err := c.check(); err != nil {
		ef.Error = err.Error()
		return
	}
	add(ef, "IV (not sent)", hex.EncodeToString(c.IV), HeaderLen, 0,
		"The CBC IV: hash(g^xi | g^xr) in phase 1, hash(last phase 1 block | M-ID) for a new exchange, else the last block of the previous message")
	plain, err := decryptBody(b, c)
	if err != nil {
		ef.Error = err.Error()
		return
	}
	df := &ike.Field{Name: "Decrypted payloads", Offset: HeaderLen, Length: len(body), Plain: plain,
		Explain: "What the encrypted part hides, as the receiver sees it after decryption"}
	ef.Children = append(ef.Children, df)
	n := d.chain(df, plain, 0, h.NextPayload)
	if df.Error != "" {
		df.Error += " (a wrong key or IV gives garbage here: do the pre-shared keys differ?)"
		ef.Error = "cannot read the decrypted payloads"
		return
	}
	if n < len(plain) {
		add(df, "Padding", hexShort(plain[n:]), n, len(plain)-n, "Fills the plaintext up to a whole number of cipher blocks")
	}
	var names []string
	for _, ch := range df.Children {
		if ch.Name != "Padding" {
			names = append(names, ch.Name)
		}
	}
	df.Value = strings.Join(names, ", ")
}

// chain dissects the payloads of b (at offset base of the current byte space) and
// returns how many bytes they took.
//
// RFC 2408, Section 3.2
func (d *dissector) chain(parent *ike.Field, b []byte, base int, first PayloadType) int {
	off := 0
	for next := first; next != PayloadNone; {
		if len(b)-off < genericHeaderLen {
			f := add(parent, next.LongName(), "", base+off, len(b)-off, payloadExplain(next))
			f.Error = fmt.Sprintf("truncated generic payload header: %d of 4 bytes", len(b)-off)
			parent.Error = f.Error
			return len(b)
		}
		np := PayloadType(b[off])
		length := int(binary.BigEndian.Uint16(b[off+2:]))
		pf := add(parent, next.LongName(), "", base+off, min(length, len(b)-off), payloadExplain(next))
		genericHeader(pf, b[off:], base+off, np, length)
		if length < genericHeaderLen || length > len(b)-off {
			pf.Error = fmt.Sprintf("payload length %d does not fit the %d bytes left", length, len(b)-off)
			parent.Error = pf.Error
			return len(b)
		}
		body := b[off+genericHeaderLen : off+length]
		bodyOff := base + off + genericHeaderLen
		p := newPayload(next)
		if next == PayloadProposal || next == PayloadTransform {
			p = nil
		}
		if p == nil {
			p = &Unknown{Type: next}
		}
		if err := p.unmarshalBody(body); err != nil {
			at := bodyOff
			var fe *fieldError
			if errors.As(err, &fe) {
				at += fe.at
			}
			add(pf, "Data", hexShort(body), bodyOff, len(body), "The payload body, which could not be decoded")
			pf.Error = fmt.Sprintf("malformed at offset %d: %v", at, err)
			parent.Error = pf.Error
			return len(b)
		}
		pf.Value = d.body(pf, p, body, bodyOff)
		off += length
		next = np
	}
	return off
}

func genericHeader(pf *ike.Field, b []byte, at int, np PayloadType, length int) {
	add(pf, "Next Payload", fmt.Sprintf("%v (%d)", np, uint8(np)), at, 1, "Type of the payload that follows this one (0: none)")
	reserved(pf, at+1, 1)
	add(pf, "Payload Length", fmt.Sprint(length), at+2, 2, "Length of this payload in bytes, its 4-byte header included")
}

// body adds the fields of a decoded payload body at offset o and returns a one-line value.
func (d *dissector) body(pf *ike.Field, p Payload, body []byte, o int) string {
	switch p := p.(type) {
	case *SA:
		return d.sa(pf, p, body, o)
	case *KE:
		add(pf, "Key Exchange Data", hexShort(p.Data), o, len(p.Data),
			"Diffie-Hellman public value (g^x): both sides combine them into g^xy, which no eavesdropper can compute")
		return fmt.Sprintf("%d bytes", len(p.Data))
	case *ID:
		return d.id(pf, p, o)
	case *Cert:
		add(pf, "Certificate Encoding", certEncodingName(p.Encoding), o, 1, "How the certificate data is encoded")
		cd := add(pf, "Certificate Data", hexShort(p.Data), o+1, len(p.Data), "A certificate binding the sender's identity to its public key")
		if p.Encoding != certX509Signature {
			return certEncodingName(p.Encoding)
		}
		cf := ike.DissectCertificate(cd, p.Data, o+1)
		cd.Value = cf.Value
		return cf.Value
	case *CertReq:
		add(pf, "Certificate Type", certEncodingName(p.Type), o, 1, "The kind of certificate asked for")
		ca := hexShort(p.Authority)
		// RFC 2408, Section 3.10: for X.509 the Certificate Authority is the CA's
		// distinguished name in DER.
		var dn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(p.Authority, &dn); err == nil && len(rest) == 0 && len(p.Authority) > 0 {
			var name pkix.Name
			name.FillFromRDNSequence(&dn)
			ca = name.String()
		}
		add(pf, "Certificate Authority", ca, o+1, len(p.Authority), "The CA whose certificates the sender accepts (empty: any)")
		return certEncodingName(p.Type)
	case *Hash:
		add(pf, "Hash Data", hexShort(p.Data), o, len(p.Data), hashExplain(d.ex))
		return hexShort(p.Data)
	case *Sig:
		add(pf, "Signature Data", hexShort(p.Data), o, len(p.Data), "Signature over HASH_I or HASH_R with the sender's private key")
		return fmt.Sprintf("%d bytes", len(p.Data))
	case *Nonce:
		add(pf, "Nonce Data", hexShort(p.Data), o, len(p.Data), "Random value that makes the keys of this exchange fresh")
		return fmt.Sprintf("%d bytes", len(p.Data))
	case *Notify:
		return d.notify(pf, p, o)
	case *Delete:
		doi(pf, p.DOI, o)
		add(pf, "Protocol ID", fmt.Sprintf("%v (%d)", p.Protocol, uint8(p.Protocol)), o+4, 1, "The kind of SA deleted")
		add(pf, "SPI Size", fmt.Sprint(p.SPISize), o+5, 1, "16 for an ISAKMP SA (both cookies), 4 for IPsec SAs")
		add(pf, "Number of SPIs", fmt.Sprint(len(p.SPIs)), o+6, 2, "How many SAs this payload deletes")
		var spis []string
		for i, spi := range p.SPIs {
			add(pf, "SPI", hex.EncodeToString(spi), o+8+i*len(spi), len(spi), "An SA the sender has deleted")
			spis = append(spis, hex.EncodeToString(spi))
		}
		return fmt.Sprintf("%v %s", p.Protocol, strings.Join(spis, ", "))
	case *VendorID:
		name := VendorName(p.Data)
		explain := "Vendor-specific capability or identification"
		if name != "" {
			explain = "The sender supports " + name
		}
		add(pf, "Vendor ID Data", hexShort(p.Data), o, len(p.Data), explain)
		if name != "" {
			return name
		}
		return hexShort(p.Data)
	case *NATD:
		add(pf, "Hash of Address and Port", hexShort(p.Hash), o, len(p.Hash),
			"HASH(CKY-I | CKY-R | IP | Port): the first names the destination, the others the sender; a mismatch reveals a NAT")
		return hexShort(p.Hash)
	case *NATOA:
		add(pf, "ID Type", fmt.Sprint(body[0]), o, 1, "1 IPv4, 5 IPv6")
		reserved(pf, o+1, 3)
		add(pf, "Original Address", p.Addr.String(), o+4, len(body)-4,
			"The first NAT-OA holds the initiator's original address, the second the responder's: what each address was before a NAT rewrote it")
		return p.Addr.String()
	case *Attributes:
		return d.attributes(pf, p, o)
	case *Unknown:
		add(pf, "Data", hexShort(p.Body), o, len(p.Body), "Body of a payload type this dissector does not know")
		return fmt.Sprintf("type %d", uint8(p.Type))
	}
	return ""
}

func doi(pf *ike.Field, v uint32, o int) {
	name := "IPSEC"
	if v != DOIIPsec {
		name = "unknown"
	}
	add(pf, "Domain of Interpretation", fmt.Sprintf("%s (%d)", name, v), o, 4, "1: the IPsec DOI (RFC 2407) gives the payloads their meaning")
}

func hashExplain(ex ExchangeType) string {
	switch ex {
	case ExchangeMain, ExchangeAggressive:
		// A phase 1 HASH payload proves identity only with pre-shared keys: with
		// signatures SIG_I and SIG_R take its place (RFC 2409, Sections 5.1 and 5.4).
		return "HASH_I or HASH_R = prf(SKEYID, g^x | g^x | cookies | SAi_b | ID_b), authentication with a pre-shared key: " +
			"SKEYID = prf(pre-shared key, Ni_b | Nr_b), so only a holder of the same key computes the same value"
	case ExchangeQuick:
		return "HASH(1), HASH(2) or HASH(3) = prf(SKEYID_a, M-ID | ...): authenticates the quick mode message"
	}
	return "prf(SKEYID_a, M-ID | payloads): authenticates the message"
}

// RFC 2408, Sections 3.4 to 3.6; RFC 2407, Section 4.6.1
func (d *dissector) sa(pf *ike.Field, p *SA, body []byte, o int) string {
	doi(pf, p.DOI, o)
	sf := add(pf, "Situation", fmt.Sprintf("0x%08x", p.Situation), o+4, 4, "SIT_IDENTITY_ONLY: the SA is identified by the identities alone")
	add(sf, "Identity Only", fmt.Sprint(p.Situation&1), o+4, 4, "1: no secrecy or integrity labels follow")
	at := saFixedLen
	var summaries []string
	for _, prop := range p.Proposals {
		plen := int(binary.BigEndian.Uint16(body[at+2:]))
		d.proto = prop.Protocol
		var names []string
		for _, t := range prop.Transforms {
			names = append(names, d.transformSummary(t))
		}
		summary := prop.Protocol.String()
		if len(names) == 1 {
			summary += ": " + names[0]
		} else {
			summary += fmt.Sprintf(": %d transforms", len(names))
		}
		summaries = append(summaries, summary)
		pr := add(pf, fmt.Sprintf("Proposal #%d", prop.Number), summary, o+at, plen,
			"One offer: a protocol and the transforms the sender accepts for it (an answer holds the one chosen)")
		genericHeader(pr, body[at:], o+at, PayloadType(body[at]), plen)
		add(pr, "Proposal Number", fmt.Sprint(prop.Number), o+at+4, 1, "Proposals with the same number are one bundle; an answer repeats it")
		add(pr, "Protocol ID", fmt.Sprintf("%v (%d)", prop.Protocol, uint8(prop.Protocol)), o+at+5, 1,
			"PROTO_ISAKMP for phase 1, PROTO_IPSEC_ESP or _AH for an IPsec SA")
		add(pr, "SPI Size", fmt.Sprint(len(prop.SPI)), o+at+6, 1, "0 in phase 1 (the cookies name the SA), 4 for ESP and AH")
		add(pr, "Number of Transforms", fmt.Sprint(len(prop.Transforms)), o+at+7, 1, "How many alternatives follow")
		if len(prop.SPI) > 0 {
			add(pr, "SPI", hex.EncodeToString(prop.SPI), o+at+8, len(prop.SPI),
				"The SPI the sender wants on the packets it receives: its inbound SA")
		}
		tat := at + genericHeaderLen + proposalFixedLen + len(prop.SPI)
		for i, t := range prop.Transforms {
			tlen := int(binary.BigEndian.Uint16(body[tat+2:]))
			tf := add(pr, fmt.Sprintf("Transform #%d", t.Number), names[i], o+tat, tlen,
				"One combination of algorithms and lifetimes, described by its attributes")
			genericHeader(tf, body[tat:], o+tat, PayloadType(body[tat]), tlen)
			add(tf, "Transform Number", fmt.Sprint(t.Number), o+tat+4, 1, "Numbers the alternatives of a proposal")
			add(tf, "Transform ID", fmt.Sprintf("%s (%d)", TransformName(prop.Protocol, t.ID), t.ID), o+tat+5, 1,
				"KEY_IKE for phase 1; for ESP the cipher")
			reserved(tf, o+tat+6, 2)
			aat := o + tat + genericHeaderLen + transformFixedLen
			for _, a := range t.Attributes {
				d.attribute(tf, a, aat)
				aat += attrLen(a)
			}
			tat += tlen
		}
		at += plen
	}
	return strings.Join(summaries, "; ")
}

// transformSummary names a transform's algorithms: "AES-CBC 128, SHA2-256, MODP_2048, PSK".
func (d *dissector) transformSummary(t *Transform) string {
	var parts []string
	if d.proto != ProtoISAKMP {
		parts = append(parts, TransformName(d.proto, t.ID))
	}
	for _, a := range t.Attributes {
		name, value := d.attrText(a)
		switch name {
		case "Life-Type", "SA-Life-Type", "Life-Duration", "SA-Life-Duration", "Encapsulation-Mode":
			continue
		}
		parts = append(parts, value)
	}
	return strings.Join(parts, ", ")
}

// attrText names an SA attribute and its value in the proposal's protocol.
func (d *dissector) attrText(a Attribute) (name, value string) {
	v := a.Uint()
	value = fmt.Sprint(v)
	if d.proto == ProtoISAKMP {
		name = nameOr(ikeAttrNames, a.Type, "IKE attribute")
		switch a.Type {
		case AttrEncryption:
			value = nameOr(encrNames, uint16(v), "cipher")
		case AttrHash:
			value = nameOr(hashNames, uint16(v), "hash")
		case AttrAuthMethod:
			value = nameOr(authNames, uint16(v), "method")
		case AttrGroupDesc:
			value = groupName(v)
		case AttrLifeType:
			value = lifeTypeName(v)
		case AttrKeyLength:
			value = fmt.Sprintf("%d bits", v)
		}
		return name, value
	}
	name = nameOr(ipsecAttrNames, a.Type, "IPsec attribute")
	switch a.Type {
	case IPsecAttrAuthAlg:
		value = nameOr(authAlgNames, uint16(v), "algorithm")
	case IPsecAttrEncapMode:
		value = nameOr(encapNames, uint16(v), "mode")
	case IPsecAttrGroupDesc:
		value = groupName(v)
	case IPsecAttrLifeType:
		value = lifeTypeName(v)
	case IPsecAttrKeyLength:
		value = fmt.Sprintf("%d bits", v)
	}
	return name, value
}

func groupName(v uint64) string {
	if g := ike.DH(uint16(v)); g != nil && v <= 0xffff {
		return g.Name
	}
	return fmt.Sprintf("group %d", v)
}

func lifeTypeName(v uint64) string {
	switch v {
	case LifeSeconds:
		return "seconds"
	case LifeKilobytes:
		return "kilobytes"
	}
	return fmt.Sprintf("type %d", v)
}

// RFC 2408, Section 3.3
func (d *dissector) attribute(tf *ike.Field, a Attribute, at int) {
	name, value := d.attrText(a)
	af := add(tf, "Attribute", name+": "+value, at, attrLen(a), attrExplain(d.proto, a.Type))
	format := "TLV (variable length)"
	if a.TV {
		format = "TV (basic: the value sits in the length field)"
	}
	add(af, "Format", format, at, 1, "The AF bit: 1 for a 2-byte value, 0 for a length and a longer value")
	add(af, "Type", fmt.Sprintf("%s (%d)", name, a.Type), at, 2, "Which attribute this is")
	if !a.TV {
		add(af, "Length", fmt.Sprint(len(a.Value)), at+2, 2, "Length of the value")
		add(af, "Value", value, at+4, len(a.Value), "The attribute's value")
		return
	}
	add(af, "Value", value, at+2, 2, "The attribute's value")
}

func attrExplain(proto ProtocolID, t uint16) string {
	if proto == ProtoISAKMP {
		switch t {
		case AttrEncryption:
			return "Cipher that protects phase 1 messages 5 and 6 and everything after"
		case AttrHash:
			return "Hash whose HMAC is the PRF, and which makes the IVs"
		case AttrAuthMethod:
			return "How the peers prove their identities"
		case AttrGroupDesc:
			return "Diffie-Hellman group of the key exchange"
		case AttrLifeType, AttrLifeDuration:
			return "How long the ISAKMP SA may live"
		case AttrKeyLength:
			return "Key size of a cipher with several"
		}
		return "A phase 1 attribute"
	}
	switch t {
	case IPsecAttrAuthAlg:
		return "Integrity algorithm of ESP"
	case IPsecAttrEncapMode:
		return "Tunnel or transport mode, in UDP when a NAT is in the path"
	case IPsecAttrGroupDesc:
		return "PFS: Diffie-Hellman group of the quick mode's own key exchange"
	case IPsecAttrLifeType, IPsecAttrLifeDuration:
		return "How long the IPsec SA may live, in seconds or kilobytes"
	case IPsecAttrKeyLength:
		return "Key size of the cipher"
	}
	return "An IPsec SA attribute"
}

// RFC 2407, Section 4.6.2
func (d *dissector) id(pf *ike.Field, p *ID, o int) string {
	add(pf, "ID Type", fmt.Sprintf("%v (%d)", p.Type, uint8(p.Type)), o, 1, "What kind of identity or address range follows")
	proto := "any"
	if p.Protocol != 0 {
		proto = fmt.Sprint(p.Protocol)
	}
	add(pf, "Protocol ID", proto, o+1, 1, "IP protocol the quick mode proxy ID covers (0: any)")
	port := "any"
	if p.Port != 0 {
		port = fmt.Sprint(p.Port)
	}
	add(pf, "Port", port, o+2, 2, "Port the quick mode proxy ID covers (0: any)")
	explain := "The identity the sender claims (phase 1) or the traffic a quick mode protects (proxy ID)"
	if d.ex == ExchangeAggressive {
		explain = "The sender's identity, sent in clear text: aggressive mode does not hide it"
	}
	add(pf, "Identification Data", p.String(), o+4, len(p.Data), explain)
	return p.String()
}

// RFC 2408, Section 3.14; RFC 3706, Section 5
func (d *dissector) notify(pf *ike.Field, p *Notify, o int) string {
	doi(pf, p.DOI, o)
	add(pf, "Protocol ID", fmt.Sprintf("%v (%d)", p.Protocol, uint8(p.Protocol)), o+4, 1, "The kind of SA the SPI names")
	add(pf, "SPI Size", fmt.Sprint(len(p.SPI)), o+5, 1, "Length of the SPI (16: both cookies)")
	kind := "Status"
	if p.Type.IsError() {
		kind = "Error"
	}
	add(pf, "Notify Message Type", fmt.Sprintf("%v (%d)", p.Type, uint16(p.Type)), o+6, 2, kind+" notification: "+p.Type.Explain())
	at := o + notifyFixedLen
	if len(p.SPI) > 0 {
		add(pf, "SPI", hex.EncodeToString(p.SPI), at, len(p.SPI), "The SA this notification concerns")
		at += len(p.SPI)
	}
	if len(p.Data) > 0 {
		value, explain := hexShort(p.Data), "Data of the notification"
		if (p.Type == R_U_THERE || p.Type == R_U_THERE_ACK) && len(p.Data) == 4 {
			value, explain = fmt.Sprint(binary.BigEndian.Uint32(p.Data)), "DPD sequence number: the ACK echoes it"
		}
		add(pf, "Notification Data", value, at, len(p.Data), explain)
	}
	return p.Type.String()
}

// draft-ietf-ipsec-isakmp-mode-cfg-05, Section 3.2; draft-beaulieu-ike-xauth-02
func (d *dissector) attributes(pf *ike.Field, p *Attributes, o int) string {
	add(pf, "Type", fmt.Sprintf("%v (%d)", p.Type, uint8(p.Type)), o, 1,
		"REQUEST asks, REPLY answers; SET pushes, ACK confirms")
	reserved(pf, o+1, 1)
	add(pf, "Identifier", fmt.Sprint(p.Identifier), o+2, 2, "Matches a reply to its request")
	at := o + 4
	var names []string
	for _, a := range p.Attributes {
		name := nameOr(cfgAttrNames, a.Type, "attribute")
		value := cfgValue(a)
		label := name
		if value != "" {
			label += " = " + value
		}
		names = append(names, label)
		af := add(pf, "Attribute", label, at, attrLen(a), cfgExplain(a.Type))
		add(af, "Type", fmt.Sprintf("%s (%d)", name, a.Type), at, 2, "Which configuration item this is")
		if !a.TV {
			add(af, "Length", fmt.Sprint(len(a.Value)), at+2, 2, "Length of the value; 0 asks the peer for one")
			if len(a.Value) > 0 {
				add(af, "Value", value, at+4, len(a.Value), "The configuration value")
			}
		} else {
			add(af, "Value", value, at+2, 2, "The configuration value")
		}
		at += attrLen(a)
	}
	return p.Type.String() + " " + strings.Join(names, ", ")
}

func cfgValue(a Attribute) string {
	if len(a.Value) == 0 {
		return ""
	}
	switch a.Type {
	case XAuthType, XAuthStatus, CfgInternalAddrExpiry:
		return fmt.Sprint(a.Uint())
	case XAuthUserName, XAuthUserPassword, XAuthPasscode, XAuthMessage, XAuthChallenge, XAuthDomain,
		XAuthNextPin, XAuthAnswer, CfgApplicationVersion:
		// Strings (draft-beaulieu-ike-xauth-02, Section 6.1): a 4- or 16-byte password is
		// no address.
		if printable(a.Value) {
			return string(a.Value)
		}
		return hexShort(a.Value)
	case CfgInternalIP4Address, CfgInternalIP4Netmask, CfgInternalIP4DNS, CfgInternalIP4NBNS, CfgInternalIP4DHCP, CfgInternalIP6Address:
		if ip, ok := netip.AddrFromSlice(a.Value); ok {
			return ip.String()
		}
	}
	if printable(a.Value) {
		return string(a.Value)
	}
	return hexShort(a.Value)
}

func cfgExplain(t uint16) string {
	switch t {
	case CfgInternalIP4Address:
		return "The inner (virtual) IPv4 address of the client"
	case CfgInternalIP4Netmask:
		return "Netmask of the internal network"
	case CfgInternalIP4DNS:
		return "A DNS server inside the VPN"
	case XAuthType:
		return "XAUTH method: 0 is generic user name and password"
	case XAuthUserName:
		return "The user name; empty in the request"
	case XAuthUserPassword:
		return "The password, protected only by the ISAKMP SA's encryption"
	case XAuthStatus:
		return "1: authentication succeeded, 0: failed"
	}
	return "A configuration attribute"
}

func printable(b []byte) bool {
	for _, c := range string(b) {
		if c == unicode.ReplacementChar || !unicode.IsPrint(c) {
			return false
		}
	}
	return len(b) > 0
}

func payloadExplain(t PayloadType) string {
	switch t {
	case PayloadSA:
		return "The algorithms offered, or the one chosen"
	case PayloadKE:
		return "Diffie-Hellman public value"
	case PayloadID:
		return "An identity (phase 1) or the addresses an IPsec SA protects (quick mode proxy ID)"
	case PayloadCERT:
		return "A certificate for the sender's public key"
	case PayloadCR:
		return "Asks the peer for a certificate"
	case PayloadHash:
		return "A keyed hash that authenticates the message or the peer"
	case PayloadSIG:
		return "A signature that authenticates the peer"
	case PayloadNonce:
		return "Random value that makes the keys fresh"
	case PayloadNotify:
		return "A status or error notification"
	case PayloadDelete:
		return "Tells the peer which SAs the sender has deleted"
	case PayloadVendor:
		return "Vendor-specific capability or identification"
	case PayloadAttr:
		return "Mode Config or XAUTH attributes"
	case PayloadNATD, PayloadNATDDraft:
		return "NAT discovery: a hash of an address and port as the sender sees it"
	case PayloadNATOA, PayloadNATOADraft:
		return "The address the sender had before a NAT"
	}
	return "A payload of a type this dissector does not know"
}

// certEncodingNames names the certificate encodings of CERT and CERTREQ (RFC 2408,
// Section 3.9).
var certEncodingNames = map[uint8]string{1: "PKCS #7 wrapped X.509 certificate", 2: "PGP Certificate",
	3: "DNS Signed Key", certX509Signature: "X.509 Certificate - Signature", 5: "X.509 Certificate - Key Exchange",
	6: "Kerberos Tokens", 7: "Certificate Revocation List (CRL)", 8: "Authority Revocation List (ARL)",
	9: "SPKI Certificate", 10: "X.509 Certificate - Attribute"}

func certEncodingName(e uint8) string {
	return fmt.Sprintf("%s (%d)", nameOr(certEncodingNames, e, "encoding"), e)
}
