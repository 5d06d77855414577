package ike

import (
	"fmt"
	"slices"
	"strings"
)

// Proposal strings in strongSwan's syntax ("aes128-sha256-modp2048"): keywords joined by
// dashes, each naming one transform. Several keywords of one type become several
// transforms of that type in one proposal, offered in the order written.

// proposalKeyword ties a keyword to the transform it stands for.
type proposalKeyword struct {
	name string
	t    Transform
}

// keywords lists the keywords ikesim reads. Where several name one transform, String
// writes the first one listed.
var keywords = buildKeywords()

func buildKeywords() []proposalKeyword {
	tr := func(typ TransformType, id uint16, keyLen int) Transform {
		return Transform{Type: typ, ID: id, KeyLen: keyLen}
	}
	enc := func(id uint16, bits int) Transform { return tr(TransformENCR, id, bits) }
	kw := []proposalKeyword{
		{"null", enc(ENCR_NULL, 0)},
		{"des", enc(ENCR_DES, 0)},
		{"3des", enc(ENCR_3DES, 0)},
	}
	gcm := []struct {
		id  uint16
		icv int
	}{{ENCR_AES_GCM_16, 16}, {ENCR_AES_GCM_12, 12}, {ENCR_AES_GCM_8, 8}}
	for _, bits := range aesKeyBits {
		kw = append(kw, proposalKeyword{fmt.Sprintf("aes%d", bits), enc(ENCR_AES_CBC, bits)})
		for _, g := range gcm {
			// The ICV length is written in bytes (aes128gcm16) or in bits (aes128gcm128).
			kw = append(kw,
				proposalKeyword{fmt.Sprintf("aes%dgcm%d", bits, g.icv), enc(g.id, bits)},
				proposalKeyword{fmt.Sprintf("aes%dgcm%d", bits, 8*g.icv), enc(g.id, bits)})
		}
		kw = append(kw, proposalKeyword{fmt.Sprintf("aes%dgcm", bits), enc(ENCR_AES_GCM_16, bits)})
		kw = append(kw, proposalKeyword{fmt.Sprintf("aes%dctr", bits), enc(ENCR_AES_CTR, bits)})
		for _, g := range []struct {
			id  uint16
			icv int
		}{{ENCR_AES_CCM_16, 16}, {ENCR_AES_CCM_12, 12}, {ENCR_AES_CCM_8, 8}} {
			kw = append(kw,
				proposalKeyword{fmt.Sprintf("aes%dccm%d", bits, g.icv), enc(g.id, bits)},
				proposalKeyword{fmt.Sprintf("aes%dccm%d", bits, 8*g.icv), enc(g.id, bits)})
		}
		kw = append(kw, proposalKeyword{fmt.Sprintf("aes%dccm", bits), enc(ENCR_AES_CCM_16, bits)},
			proposalKeyword{fmt.Sprintf("camellia%d", bits), enc(ENCR_CAMELLIA_CBC, bits)})
	}
	kw = append(kw,
		proposalKeyword{"aes", enc(ENCR_AES_CBC, 128)},
		proposalKeyword{"camellia", enc(ENCR_CAMELLIA_CBC, 128)},
		proposalKeyword{"chacha20poly1305", enc(ENCR_CHACHA20_POLY1305, 0)},

		proposalKeyword{"md5", tr(TransformINTEG, AUTH_HMAC_MD5_96, 0)},
		proposalKeyword{"sha1", tr(TransformINTEG, AUTH_HMAC_SHA1_96, 0)},
		proposalKeyword{"sha", tr(TransformINTEG, AUTH_HMAC_SHA1_96, 0)},
		proposalKeyword{"md5_128", tr(TransformINTEG, AUTH_HMAC_MD5_128, 0)},
		proposalKeyword{"sha1_160", tr(TransformINTEG, AUTH_HMAC_SHA1_160, 0)},
		proposalKeyword{"sha256_96", tr(TransformINTEG, AUTH_HMAC_SHA2_256_96, 0)},
		proposalKeyword{"aesxcbc", tr(TransformINTEG, AUTH_AES_XCBC_96, 0)},
		// strongSwan's keywords are aescmac and prfaescmac; cmac and prfcmac are read too.
		proposalKeyword{"aescmac", tr(TransformINTEG, AUTH_AES_CMAC_96, 0)},
		proposalKeyword{"cmac", tr(TransformINTEG, AUTH_AES_CMAC_96, 0)},
		proposalKeyword{"sha256", tr(TransformINTEG, AUTH_HMAC_SHA2_256_128, 0)},
		proposalKeyword{"sha2_256", tr(TransformINTEG, AUTH_HMAC_SHA2_256_128, 0)},
		proposalKeyword{"sha384", tr(TransformINTEG, AUTH_HMAC_SHA2_384_192, 0)},
		proposalKeyword{"sha2_384", tr(TransformINTEG, AUTH_HMAC_SHA2_384_192, 0)},
		proposalKeyword{"sha512", tr(TransformINTEG, AUTH_HMAC_SHA2_512_256, 0)},
		proposalKeyword{"sha2_512", tr(TransformINTEG, AUTH_HMAC_SHA2_512_256, 0)},

		proposalKeyword{"prfmd5", tr(TransformPRF, PRF_HMAC_MD5, 0)},
		proposalKeyword{"prfsha1", tr(TransformPRF, PRF_HMAC_SHA1, 0)},
		proposalKeyword{"prfaesxcbc", tr(TransformPRF, PRF_AES128_XCBC, 0)},
		proposalKeyword{"prfaescmac", tr(TransformPRF, PRF_AES128_CMAC, 0)},
		proposalKeyword{"prfcmac", tr(TransformPRF, PRF_AES128_CMAC, 0)},
		proposalKeyword{"prfsha256", tr(TransformPRF, PRF_HMAC_SHA2_256, 0)},
		proposalKeyword{"prfsha384", tr(TransformPRF, PRF_HMAC_SHA2_384, 0)},
		proposalKeyword{"prfsha512", tr(TransformPRF, PRF_HMAC_SHA2_512, 0)},
	)
	// strongSwan's names where the IANA name does not give them.
	groupKeyword := map[uint16]string{Curve25519: "x25519", Curve448: "curve448",
		MODP_1024_160: "modp1024s160", MODP_2048_224: "modp2048s224", MODP_2048_256: "modp2048s256"}
	for _, g := range dhGroups {
		name, ok := groupKeyword[g.ID]
		if !ok {
			name = strings.ToLower(strings.ReplaceAll(g.Name, "_", ""))
		}
		kw = append(kw, proposalKeyword{name, tr(TransformDH, g.ID, 0)})
	}
	return append(kw,
		proposalKeyword{"curve25519", tr(TransformDH, Curve25519, 0)},
		proposalKeyword{"x448", tr(TransformDH, Curve448, 0)},
		proposalKeyword{"esn", tr(TransformESN, ESN, 0)},
		proposalKeyword{"noesn", tr(TransformESN, NO_ESN, 0)},
	)
}

var (
	keywordByName      = map[string]Transform{}
	keywordByTransform = map[Transform]string{}
)

func init() {
	for _, k := range keywords {
		keywordByName[k.name] = k.t
		if _, ok := keywordByTransform[k.t]; !ok {
			keywordByTransform[k.t] = k.name
		}
	}
}

// impliedPRF maps an integrity algorithm to the PRF on the same hash, which an IKE
// proposal without a prf keyword offers (strongSwan's rule).
var impliedPRF = map[uint16]uint16{
	AUTH_HMAC_MD5_96:       PRF_HMAC_MD5,
	AUTH_HMAC_MD5_128:      PRF_HMAC_MD5,
	AUTH_HMAC_SHA1_96:      PRF_HMAC_SHA1,
	AUTH_HMAC_SHA1_160:     PRF_HMAC_SHA1,
	AUTH_AES_XCBC_96:       PRF_AES128_XCBC,
	AUTH_AES_CMAC_96:       PRF_AES128_CMAC,
	AUTH_HMAC_SHA2_256_128: PRF_HMAC_SHA2_256,
	AUTH_HMAC_SHA2_256_96:  PRF_HMAC_SHA2_256,
	AUTH_HMAC_SHA2_384_192: PRF_HMAC_SHA2_384,
	AUTH_HMAC_SHA2_512_256: PRF_HMAC_SHA2_512,
}

func impliedPRFs(integ []Transform) []Transform {
	var prfs []Transform
	for _, t := range integ {
		if id, ok := impliedPRF[t.ID]; ok {
			prfs = appendNew(prfs, Transform{Type: TransformPRF, ID: id})
		}
	}
	return prfs
}

var noESN = Transform{Type: TransformESN, ID: NO_ESN}

// sortedKeywords holds the keyword names in order, for ProposalKeywords and suggestions.
var sortedKeywords = func() []string {
	names := make([]string, 0, len(keywords))
	for _, k := range keywords {
		names = append(names, k.name)
	}
	slices.Sort(names)
	return names
}()

// ProposalKeywords returns every keyword ParseProposal knows, sorted.
func ProposalKeywords() []string { return slices.Clone(sortedKeywords) }

// ParseProposal reads a proposal in strongSwan's syntax for protocol proto. Keywords
// are case-insensitive. Besides the transforms written, it adds what strongSwan adds:
//
//   - IKE without a prf keyword offers the PRF of each integrity algorithm's hash
//     (sha256 implies prfsha256);
//   - with AEAD ciphers (aes128gcm16, chacha20poly1305) integrity keywords only imply
//     PRFs and are dropped: the cipher carries its own ICV;
//   - ESP and AH without esn or noesn offer "no ESN" (RFC 7296, Section 3.3.2).
//
// A proposal must make sense for its protocol: IKE needs encryption, integrity or an
// AEAD cipher, a PRF and a Diffie-Hellman group; ESP needs encryption (ENCR_NULL only
// with integrity); AH needs integrity and no encryption. The error says what is missing
// or which keyword is unknown, with the nearest known one.
func ParseProposal(s string, proto Protocol) (Proposal, error) {
	p := Proposal{Protocol: proto}
	if proto != ProtoIKE && proto != ProtoESP && proto != ProtoAH {
		return Proposal{}, fmt.Errorf("ike: proposal %q for unknown protocol %d", s, uint8(proto))
	}
	p.Transforms = make([]Transform, 0, strings.Count(s, "-")+3) // and the implied PRF and ESN
	for tok := range strings.SplitSeq(s, "-") {
		name := strings.ToLower(strings.TrimSpace(tok))
		if name == "" {
			return Proposal{}, fmt.Errorf("ike: empty algorithm in proposal %q", s)
		}
		t, ok := keywordByName[name]
		if !ok {
			return Proposal{}, unknownKeyword(tok, s)
		}
		p.Transforms = appendNew(p.Transforms, t)
	}
	if err := p.complete(s); err != nil {
		return Proposal{}, err
	}
	return p, nil
}

// complete checks a parsed proposal for its protocol and adds the implied transforms.
func (p *Proposal) complete(s string) error {
	var scratch [8]Transform // the ciphers: no allocation for most proposals
	encr := p.appendOf(scratch[:0], TransformENCR)
	aead := 0
	for _, t := range encr {
		if a := Encr(t.ID); a != nil && a.AEAD() {
			aead++
		}
	}
	if aead > 0 && aead < len(encr) {
		return fmt.Errorf("ike: proposal %q mixes AEAD and non-AEAD ciphers; put them in separate proposals", s)
	}
	has := func(typ TransformType) bool {
		return slices.ContainsFunc(p.Transforms, func(t Transform) bool { return t.Type == typ })
	}
	proto := p.Protocol
	switch proto {
	case ProtoIKE:
		if has(TransformESN) {
			return fmt.Errorf("ike: IKE proposal %q: ESN is negotiated for ESP and AH only", s)
		}
		if !has(TransformPRF) {
			p.Transforms = append(p.Transforms, impliedPRFs(p.of(TransformINTEG))...)
		}
		switch {
		case len(encr) == 0:
			return fmt.Errorf("ike: IKE proposal %q has no encryption algorithm", s)
		case aead == 0 && !has(TransformINTEG):
			return fmt.Errorf("ike: IKE proposal %q has no integrity algorithm (or use an AEAD cipher such as aes128gcm16)", s)
		case !has(TransformPRF):
			return fmt.Errorf("ike: IKE proposal %q has no PRF (add one, e.g. prfsha256)", s)
		case !has(TransformDH):
			return fmt.Errorf("ike: IKE proposal %q has no Diffie-Hellman group (add one, e.g. modp2048 or x25519)", s)
		}
	case ProtoESP, ProtoAH:
		switch {
		case has(TransformPRF):
			return fmt.Errorf("ike: %s proposal %q: a PRF is negotiated for IKE only", proto, s)
		case proto == ProtoAH && len(encr) > 0:
			return fmt.Errorf("ike: AH proposal %q: AH does not encrypt", s)
		case proto == ProtoAH && !has(TransformINTEG):
			return fmt.Errorf("ike: AH proposal %q has no integrity algorithm", s)
		case proto == ProtoESP && len(encr) == 0:
			return fmt.Errorf("ike: ESP proposal %q has no encryption algorithm (null for none)", s)
		case aead == 0 && !has(TransformINTEG) && slices.ContainsFunc(encr, func(t Transform) bool { return t.ID == ENCR_NULL }):
			return fmt.Errorf("ike: ESP proposal %q offers ENCR_NULL without an integrity algorithm", s)
		}
		if !has(TransformESN) {
			p.Transforms = append(p.Transforms, noESN)
		}
	}
	if aead > 0 {
		p.Transforms = slices.DeleteFunc(p.Transforms, func(t Transform) bool { return t.Type == TransformINTEG })
	}
	slices.SortStableFunc(p.Transforms, func(a, b Transform) int { return int(a.Type) - int(b.Type) })
	return nil
}

// String writes the proposal back in strongSwan's syntax: ciphers, integrity, PRFs,
// groups, ESN. What ParseProposal would add by itself (PRFs implied by integrity, "no
// ESN") is left out, so ParseProposal(p.String(), p.Protocol) gives p back. Transforms
// without a keyword appear by their IANA name.
func (p Proposal) String() string {
	var scratch [8]Transform // the transforms of one type: no allocation for most proposals
	b := make([]byte, 0, 64)
	parts := 0
	add := func(ts []Transform) {
		for _, t := range ts {
			if parts > 0 {
				b = append(b, '-')
			}
			parts++
			if name, ok := keywordByTransform[t]; ok {
				b = append(b, name...)
			} else {
				b = append(b, strings.ReplaceAll(TransformName(t), " ", "")...)
			}
		}
	}
	add(p.appendOf(scratch[:0], TransformENCR))
	integ := p.appendOf(scratch[:0], TransformINTEG)
	add(integ)
	var prfs [4]Transform // apart from scratch, which integ may still be using
	if p.Protocol != ProtoIKE || !slices.Equal(p.appendOf(prfs[:0], TransformPRF), impliedPRFs(integ)) {
		add(p.appendOf(scratch[:0], TransformPRF))
	}
	add(p.appendOf(scratch[:0], TransformDH))
	if esn := p.appendOf(scratch[:0], TransformESN); p.Protocol == ProtoIKE || !slices.Equal(esn, []Transform{noESN}) {
		add(esn)
	}
	return string(b)
}

// Weak returns the names (as TransformName gives them) of the proposal's transforms the
// registry marks weak: DES, 3DES, NULL, the MD5 PRF and integrity, MODP 768 to 1536.
func (p Proposal) Weak() []string {
	var weak []string
	for _, t := range p.Transforms {
		if weakTransform(t) {
			weak = append(weak, TransformName(t))
		}
	}
	return weak
}

// of returns the proposal's transforms of one type, in order.
// Transform returns the proposal's first transform of type typ.
func (p Proposal) Transform(typ TransformType) (Transform, bool) {
	for _, t := range p.Transforms {
		if t.Type == typ {
			return t, true
		}
	}
	return Transform{}, false
}

func (p Proposal) of(typ TransformType) []Transform { return p.appendOf(nil, typ) }

// appendOf appends the proposal's transforms of one type to dst, in order.
func (p Proposal) appendOf(dst []Transform, typ TransformType) []Transform {
	for _, t := range p.Transforms {
		if t.Type == typ {
			dst = append(dst, t)
		}
	}
	return dst
}

func appendNew(ts []Transform, t Transform) []Transform {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

// maxSuggestLen bounds the keyword length unknownKeyword looks for neighbours of; no
// keyword is near a longer one.
const maxSuggestLen = 32

// unknownKeyword reports an unknown keyword with the nearest known one, if any is near.
func unknownKeyword(tok, s string) error {
	name := strings.ToLower(strings.TrimSpace(tok))
	if best, ok := Nearest(name, sortedKeywords); ok && len(name) <= maxSuggestLen {
		return fmt.Errorf("ike: unknown algorithm %q in proposal %q (did you mean %q?)", tok, s, best)
	}
	return fmt.Errorf("ike: unknown algorithm %q in proposal %q", tok, s)
}
