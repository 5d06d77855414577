package ikev1

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Proposals come from the configuration in strongSwan's syntax as ike.Proposals. IKEv1
// writes them as attributes: phase 1 offers one proposal whose transforms are every
// combination of cipher, hash and group (RFC 2409, Section 5: one proposal, several
// transforms); quick mode offers one proposal per configured proposal, each with a
// transform per combination of cipher and integrity algorithm.

// p1Transform is one phase 1 combination of algorithms.
type p1Transform struct {
	encr  ike.Transform // ENCR with its key length
	hash  *HashAlg
	group uint16
}

// phase1Transforms expands a proposal into its phase 1 transforms: every cipher with
// every hash (named by the integrity algorithms, or by the PRFs) and every group.
func phase1Transforms(p ike.Proposal) ([]p1Transform, error) {
	var encrs []ike.Transform
	var hashes []*HashAlg
	var groups []uint16
	for _, t := range p.Transforms {
		switch t.Type {
		case ike.TransformENCR:
			if _, ok := phase1EncrAttr(t.ID); !ok {
				return nil, fmt.Errorf("IKEv1 phase 1 has no cipher %s (des, 3des, aes128/192/256, camellia128/192/256)", ike.TransformName(t))
			}
			encrs = append(encrs, t)
		case ike.TransformINTEG:
			h := hashForInteg(t.ID)
			if h == nil {
				return nil, fmt.Errorf("IKEv1 phase 1 has no hash for %s (md5, sha1, sha256, sha384, sha512)", ike.TransformName(t))
			}
			hashes = appendHash(hashes, h)
		case ike.TransformDH:
			if ike.DH(t.ID) == nil {
				return nil, fmt.Errorf("unknown Diffie-Hellman group %d", t.ID)
			}
			groups = append(groups, t.ID)
		}
	}
	if len(hashes) == 0 {
		for _, t := range p.Transforms {
			if t.Type == ike.TransformPRF {
				if h := hashForPRF(t.ID); h != nil {
					hashes = appendHash(hashes, h)
				}
			}
		}
	}
	if len(encrs) == 0 || len(hashes) == 0 || len(groups) == 0 {
		return nil, fmt.Errorf("IKEv1 proposal %s needs a cipher, a hash and a Diffie-Hellman group", p)
	}
	var out []p1Transform
	for _, e := range encrs {
		for _, h := range hashes {
			for _, g := range groups {
				out = append(out, p1Transform{encr: e, hash: h, group: g})
			}
		}
	}
	return out, nil
}

func appendHash(hs []*HashAlg, h *HashAlg) []*HashAlg {
	for _, x := range hs {
		if x == h {
			return hs
		}
	}
	return append(hs, h)
}

// attributes writes the transform as phase 1 attributes (RFC 2409, Appendix A), in the
// order strongSwan sends them.
func (t p1Transform) attributes(auth uint16, life time.Duration) []Attribute {
	encr, _ := phase1EncrAttr(t.encr.ID)
	as := []Attribute{TV(AttrEncryption, encr)}
	if t.encr.KeyLen != 0 {
		as = append(as, TV(AttrKeyLength, uint16(t.encr.KeyLen)))
	}
	as = append(as, TV(AttrHash, t.hash.ID), TV(AttrGroupDesc, t.group), TV(AttrAuthMethod, auth),
		TV(AttrLifeType, LifeSeconds), Number(AttrLifeDuration, uint64(life/time.Second)))
	return as
}

// proposal is the transform as the engines and the trace name algorithms.
func (t p1Transform) proposal() ike.Proposal {
	return ike.Proposal{Protocol: ike.ProtoIKE, Transforms: []ike.Transform{t.encr,
		{Type: ike.TransformPRF, ID: t.hash.PRF.ID}, {Type: ike.TransformINTEG, ID: t.hash.Integ},
		{Type: ike.TransformDH, ID: t.group}}}
}

// p1Offer is what a phase 1 transform says beyond its algorithms.
type p1Offer struct {
	p1Transform
	auth uint16
	life time.Duration
}

// parsePhase1Transform reads a received phase 1 transform.
func parsePhase1Transform(tr *Transform) (p1Offer, error) {
	var o p1Offer
	if tr.ID != KeyIKE {
		return o, fmt.Errorf("transform ID %d is not KEY_IKE", tr.ID)
	}
	var encr *ike.EncrAlg
	lifeType := uint64(LifeSeconds)
	for _, a := range tr.Attributes {
		v := a.Uint()
		switch a.Type {
		case AttrEncryption:
			if encr = Phase1Encr(uint16(v)); encr == nil {
				return o, fmt.Errorf("encryption algorithm %s is not supported", nameOr(encrNames, uint16(v), "cipher"))
			}
			o.encr = ike.Transform{Type: ike.TransformENCR, ID: encr.ID}
		case AttrKeyLength:
			o.encr.KeyLen = int(v)
		case AttrHash:
			if o.hash = HashByID(uint16(v)); o.hash == nil {
				return o, fmt.Errorf("hash %s is not supported", nameOr(hashNames, uint16(v), "hash"))
			}
		case AttrGroupDesc:
			if ike.DH(uint16(v)) == nil || v > 0xffff {
				return o, fmt.Errorf("Diffie-Hellman group %d is not supported", v)
			}
			o.group = uint16(v)
		case AttrAuthMethod:
			o.auth = uint16(v)
		case AttrLifeType:
			lifeType = v
		case AttrLifeDuration:
			if lifeType == LifeSeconds && v < 1<<31 {
				o.life = time.Duration(v) * time.Second
			}
		default:
			return o, fmt.Errorf("attribute %s is not supported", nameOr(ikeAttrNames, a.Type, "IKE attribute"))
		}
	}
	if encr == nil || o.hash == nil || o.group == 0 || o.auth == 0 {
		return o, fmt.Errorf("a cipher, hash, group or authentication method is missing")
	}
	return o, checkKeyLength(encr, &o.encr)
}

// checkKeyLength checks the Key Length attribute of a cipher: required when the cipher
// has several key sizes, one of them when given; dropped for a cipher of one size (the
// registry's proposals carry no key length for DES and 3DES).
func checkKeyLength(encr *ike.EncrAlg, t *ike.Transform) error {
	if len(encr.KeyBits) > 1 && t.KeyLen == 0 {
		return fmt.Errorf("%s without a key length", encr.Name)
	}
	if t.KeyLen != 0 && !slices.Contains(encr.KeyBits, t.KeyLen) {
		return fmt.Errorf("%s has no %d-bit key", encr.Name, t.KeyLen)
	}
	if len(encr.KeyBits) == 1 {
		t.KeyLen = 0
	}
	return nil
}

// espTransform is one quick mode combination of algorithms. An AH transform (RFC 2407,
// Section 4.4.3) is one without a cipher: encr is the zero Transform.
type espTransform struct {
	encr  ike.Transform
	integ uint16 // 0: none (AEAD or NULL-free offers only)
	group uint16 // PFS group; 0: none
	esn   bool
}

// espTransforms expands an ESP proposal: every cipher with every integrity algorithm,
// all with the proposal's first Diffie-Hellman group (PFS) and ESN setting. An AH
// proposal expands to one transform per integrity algorithm.
func espTransforms(p ike.Proposal) ([]espTransform, error) {
	var encrs []ike.Transform
	var integs []uint16
	var group uint16
	esn, esnSeen := false, false
	for _, t := range p.Transforms {
		switch t.Type {
		case ike.TransformENCR:
			if _, ok := espTransformID(t.ID); !ok {
				return nil, fmt.Errorf("IKEv1 quick mode has no ESP transform for %s", ike.TransformName(t))
			}
			encrs = append(encrs, t)
		case ike.TransformINTEG:
			if _, ok := espAuthAttr(t.ID); !ok && t.ID != ike.AUTH_NONE {
				return nil, fmt.Errorf("IKEv1 quick mode has no authentication algorithm for %s", ike.TransformName(t))
			}
			integs = append(integs, t.ID)
		case ike.TransformDH:
			if group == 0 {
				group = t.ID
			}
		case ike.TransformESN:
			if !esnSeen {
				esn, esnSeen = t.ID == ike.ESN, true
			}
		}
	}
	if p.Protocol == ike.ProtoAH {
		var out []espTransform
		for _, i := range integs {
			if _, ok := ahTransformID(i); !ok {
				return nil, fmt.Errorf("IKEv1 quick mode has no AH transform for %s", ike.TransformName(ike.Transform{Type: ike.TransformINTEG, ID: i}))
			}
			out = append(out, espTransform{integ: i, group: group, esn: esn})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("AH proposal %s has no integrity algorithm", p)
		}
		return out, nil
	}
	if len(integs) == 0 {
		integs = []uint16{0}
	}
	var out []espTransform
	for _, e := range encrs {
		for _, i := range integs {
			out = append(out, espTransform{encr: e, integ: i, group: group, esn: esn})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ESP proposal %s has no cipher", p)
	}
	return out, nil
}

// lifetimes are what an IPsec SA transform says about its life.
type lifetimes struct {
	seconds time.Duration
	kbytes  uint64
}

// attributes writes the transform as IPsec DOI attributes (RFC 2407, Section 4.5).
func (t espTransform) attributes(encap uint16, life lifetimes) []Attribute {
	var as []Attribute
	if t.encr.KeyLen != 0 {
		as = append(as, TV(IPsecAttrKeyLength, uint16(t.encr.KeyLen)))
	}
	if t.integ != 0 {
		a, _ := espAuthAttr(t.integ)
		as = append(as, TV(IPsecAttrAuthAlg, a))
	}
	if t.group != 0 {
		as = append(as, TV(IPsecAttrGroupDesc, t.group))
	}
	as = append(as, TV(IPsecAttrEncapMode, encap))
	if life.seconds > 0 {
		as = append(as, TV(IPsecAttrLifeType, LifeSeconds), Number(IPsecAttrLifeDuration, uint64(life.seconds/time.Second)))
	}
	if life.kbytes > 0 {
		as = append(as, TV(IPsecAttrLifeType, LifeKilobytes), Number(IPsecAttrLifeDuration, life.kbytes))
	}
	if t.esn {
		as = append(as, TV(IPsecAttrESN, 1))
	}
	return as
}

// isAH reports whether the transform is an AH transform.
func (t espTransform) isAH() bool { return t.encr.ID == 0 }

// proposal is the transform as the host installs it.
func (t espTransform) proposal() ike.Proposal {
	p := ike.Proposal{Protocol: ike.ProtoESP, Transforms: []ike.Transform{t.encr}}
	if t.isAH() {
		p = ike.Proposal{Protocol: ike.ProtoAH}
	}
	if t.integ != 0 {
		p.Transforms = append(p.Transforms, ike.Transform{Type: ike.TransformINTEG, ID: t.integ})
	}
	if t.group != 0 {
		p.Transforms = append(p.Transforms, ike.Transform{Type: ike.TransformDH, ID: t.group})
	}
	esn := uint16(ike.NO_ESN)
	if t.esn {
		esn = ike.ESN
	}
	return ike.Proposal{Protocol: p.Protocol, Transforms: append(p.Transforms, ike.Transform{Type: ike.TransformESN, ID: esn})}
}

// espOffer is a received ESP transform with its encapsulation and lifetimes.
type espOffer struct {
	espTransform
	encap uint16
	life  lifetimes
}

// parseIPsecTransform reads a received quick mode transform of an ESP or AH proposal.
func parseIPsecTransform(proto ProtocolID, tr *Transform) (espOffer, error) {
	if proto == ProtoIPsecAH {
		return parseAHTransform(tr)
	}
	return parseESPTransform(tr)
}

// parseAHTransform reads a received AH transform: its ID names the integrity algorithm,
// and the Authentication Algorithm attribute, which AH must carry (RFC 2407, Section
// 4.5), must name the same one.
func parseAHTransform(tr *Transform) (espOffer, error) {
	integ, ok := ahTransformInteg(tr.ID)
	if !ok {
		return espOffer{}, fmt.Errorf("AH transform %s is not supported", TransformName(ProtoIPsecAH, tr.ID))
	}
	o, err := parseIPsecAttributes(espOffer{encap: EncapTunnel}, tr)
	switch {
	case err != nil:
		return o, err
	case o.encr.KeyLen != 0:
		return o, fmt.Errorf("AH transform %s has a key length", TransformName(ProtoIPsecAH, tr.ID))
	case o.integ != integ:
		return o, fmt.Errorf("AH transform %s needs the Authentication Algorithm attribute %s", TransformName(ProtoIPsecAH, tr.ID),
			nameOr(authAlgNames, first(espAuthAttr(integ)), "algorithm"))
	}
	return o, nil
}

func first[T any](v T, _ bool) T { return v }

// parseESPTransform reads a received quick mode transform.
func parseESPTransform(tr *Transform) (espOffer, error) {
	o := espOffer{encap: EncapTunnel}
	encr := espTransformEncr(tr.ID)
	if encr == nil {
		return o, fmt.Errorf("ESP transform %s is not supported", TransformName(ProtoIPsecESP, tr.ID))
	}
	o.encr = ike.Transform{Type: ike.TransformENCR, ID: encr.ID}
	o, err := parseIPsecAttributes(o, tr)
	if err != nil {
		return o, err
	}
	return o, checkKeyLength(encr, &o.encr)
}

// parseIPsecAttributes reads the IPsec DOI attributes of a quick mode transform (RFC
// 2407, Section 4.5) into o.
func parseIPsecAttributes(o espOffer, tr *Transform) (espOffer, error) {
	lifeType := uint64(LifeSeconds)
	for _, a := range tr.Attributes {
		v := a.Uint()
		switch a.Type {
		case IPsecAttrKeyLength:
			o.encr.KeyLen = int(v)
		case IPsecAttrAuthAlg:
			integ, ok := espAuthInteg(uint16(v))
			if !ok {
				return o, fmt.Errorf("authentication algorithm %s is not supported", nameOr(authAlgNames, uint16(v), "algorithm"))
			}
			o.integ = integ
		case IPsecAttrGroupDesc:
			if ike.DH(uint16(v)) == nil || v > 0xffff {
				return o, fmt.Errorf("PFS group %d is not supported", v)
			}
			o.group = uint16(v)
		case IPsecAttrEncapMode:
			o.encap = uint16(v)
		case IPsecAttrLifeType:
			lifeType = v
		case IPsecAttrLifeDuration:
			switch lifeType {
			case LifeSeconds:
				if v < 1<<31 {
					o.life.seconds = time.Duration(v) * time.Second
				}
			case LifeKilobytes:
				o.life.kbytes = v
			}
		case IPsecAttrESN:
			o.esn = v == 1
		default:
			return o, fmt.Errorf("attribute %s is not supported", nameOr(ipsecAttrNames, a.Type, "IPsec attribute"))
		}
	}
	return o, nil
}

// proposalList writes proposals as strongSwan does: "aes128-sha256-modp2048, 3des-md5".
func proposalList(ps []ike.Proposal) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// Phase1Offer is the SA payload of a first phase 1 message (RFC 2409, Section 5): one
// proposal whose transforms are every combination of the proposals' algorithms, each
// with authentication method auth and lifetime life. A non-zero group keeps only the
// transforms of that group, as aggressive mode needs (its first message carries the KE).
// It returns the offered transforms as proposals too, in order, for the trace.
func Phase1Offer(ps []ike.Proposal, auth uint16, life time.Duration, group uint16) (*SA, []ike.Proposal, error) {
	prop := &Proposal{Number: 1, Protocol: ProtoISAKMP}
	var offered []ike.Proposal
	for _, p := range ps {
		ts, err := phase1Transforms(p)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range ts {
			if group != 0 && t.group != group {
				continue
			}
			prop.Transforms = append(prop.Transforms, &Transform{Number: uint8(len(prop.Transforms) + 1), ID: KeyIKE,
				Attributes: t.attributes(auth, life)})
			offered = append(offered, t.proposal())
		}
	}
	return &SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []*Proposal{prop}}, offered, nil
}

// Phase1Suite is what a phase 1 transform negotiates.
type Phase1Suite struct {
	Proposal ike.Proposal // the algorithms, as the trace names them
	Encr     *ike.EncrAlg
	KeyBytes int // of the encryption key (RFC 2409, Appendix B)
	Hash     *HashAlg
	Group    *ike.DHGroup
	Auth     uint16 // the Authentication Method attribute
	Life     time.Duration
}

// ReadPhase1Transform reads a phase 1 transform as a responder returns it.
func ReadPhase1Transform(tr *Transform) (Phase1Suite, error) {
	o, err := parsePhase1Transform(tr)
	if err != nil {
		return Phase1Suite{}, fmt.Errorf("ikev1: %v", err)
	}
	encr := ike.Encr(o.encr.ID)
	return Phase1Suite{Proposal: o.proposal(), Encr: encr, KeyBytes: encr.KeyBytes(o.encr.KeyLen), Hash: o.hash,
		Group: ike.DH(o.group), Auth: o.auth, Life: o.life}, nil
}

// ESPOffer is the SA payload of a first quick mode message (RFC 2409, Section 5.5): one
// ESP proposal with inbound SPI spi for each configured proposal, with a transform for
// every combination of its algorithms, each with encapsulation mode encap and the
// lifetime in seconds and, when not 0, in kilobytes.
func ESPOffer(ps []ike.Proposal, spi uint32, encap uint16, seconds time.Duration, kbytes uint64) (*SA, error) {
	return IPsecOffer(ps, spi, 0, encap, seconds, kbytes)
}

// IPsecOffer is ESPOffer for proposals that may hold AH ones too (Protocol ike.ProtoAH),
// which offer the AH SPI ahSPI. With only AH proposals it offers AH; with both kinds,
// AH+ESP bundles: for each ESP proposal and each AH proposal one proposal number with
// an AH and an ESP proposal payload (RFC 2408, Section 4.2: payloads of one number are
// taken together), as a Cisco transform set "ah-sha-hmac esp-aes" does.
func IPsecOffer(ps []ike.Proposal, espSPI, ahSPI uint32, encap uint16, seconds time.Duration, kbytes uint64) (*SA, error) {
	var ahs, esps []ike.Proposal
	for _, p := range ps {
		if p.Protocol == ike.ProtoAH {
			ahs = append(ahs, p)
		} else {
			esps = append(esps, p)
		}
	}
	if len(ahs) == 0 {
		return espOffer1(esps, espSPI, encap, seconds, kbytes)
	}
	offer := &SA{DOI: DOIIPsec, Situation: SitIdentityOnly}
	life := lifetimes{seconds, kbytes}
	add := func(n int, proto ProtocolID, spi uint32, p ike.Proposal) error {
		ts, err := espTransforms(p)
		if err != nil {
			return err
		}
		prop := &Proposal{Number: uint8(n), Protocol: proto, SPI: spiBytes(spi)}
		for _, t := range ts {
			id, _ := espTransformID(t.encr.ID)
			if t.isAH() {
				id, _ = ahTransformID(t.integ)
			}
			prop.Transforms = append(prop.Transforms, &Transform{Number: uint8(len(prop.Transforms) + 1), ID: id,
				Attributes: t.attributes(encap, life)})
		}
		offer.Proposals = append(offer.Proposals, prop)
		return nil
	}
	n := 0
	for _, a := range ahs {
		if len(esps) == 0 {
			n++
			if err := add(n, ProtoIPsecAH, ahSPI, a); err != nil {
				return nil, err
			}
		}
		for _, e := range esps {
			n++
			if err := add(n, ProtoIPsecAH, ahSPI, a); err != nil {
				return nil, err
			}
			if err := add(n, ProtoIPsecESP, espSPI, e); err != nil {
				return nil, err
			}
		}
	}
	return offer, nil
}

// espOffer1 is the SA payload of ESP proposals alone, one proposal number each.
func espOffer1(ps []ike.Proposal, spi uint32, encap uint16, seconds time.Duration, kbytes uint64) (*SA, error) {
	offer := &SA{DOI: DOIIPsec, Situation: SitIdentityOnly}
	for i, p := range ps {
		ts, err := espTransforms(p)
		if err != nil {
			return nil, err
		}
		prop := &Proposal{Number: uint8(i + 1), Protocol: ProtoIPsecESP, SPI: spiBytes(spi)}
		for _, t := range ts {
			id, _ := espTransformID(t.encr.ID)
			prop.Transforms = append(prop.Transforms, &Transform{Number: uint8(len(prop.Transforms) + 1), ID: id,
				Attributes: t.attributes(encap, lifetimes{seconds, kbytes})})
		}
		offer.Proposals = append(offer.Proposals, prop)
	}
	return offer, nil
}
