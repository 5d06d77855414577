package ios

import (
	"cmp"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// IOS's defaults for what a configuration leaves out (Cisco's command references).
const (
	defaultP1Life     = 86400 * time.Second // crypto isakmp policy: lifetime
	defaultP2Life     = 3600 * time.Second  // crypto ipsec security-association lifetime seconds
	defaultP2KB       = 4608000             // ... kilobytes
	defaultIKEv2Life  = 86400 * time.Second // crypto ikev2 profile: lifetime
	defaultPolicyEncr = "des"
	defaultPolicyHash = "sha1"
	defaultPolicyDH   = "modp768" // group 1
	defaultPolicyAuth = "rsa-sig"
)

// defaultIKEv2Proposal is IOS 15's default IKEv2 proposal (show crypto ikev2 proposal
// default): AES-CBC 256, 192 and 128, SHA-512 down to MD5, groups 5 and 2.
var defaultIKEv2Proposal = "aes256-aes192-aes128-sha512-sha384-sha256-sha1-md5-modp1536-modp1024"

type policy struct {
	prio                 int
	encr, hash, dh, auth string
	life                 time.Duration
	line                 *line
	encrAt, hashAt, dhAt config.Pos
	authAt, lifeAt       config.Pos
}

type presharedKey struct {
	key  string
	peer netip.Prefix
	line *line
}

type amPeer struct {
	password string
	id       string
	line     *line
	pwAt     config.Pos
	idAt     config.Pos
}

type transformSet struct {
	proposal  string // ESP, without PFS
	transport bool
	line      *line
	modeAt    config.Pos
}

type mapEntry struct {
	name      string
	seq       int
	peer      netip.Addr
	tsets     []string
	pfs       string
	acl       string
	life      time.Duration
	kbytes    uint64
	profile   string
	line      *line
	peerAt    config.Pos
	tsetAt    config.Pos
	pfsAt     config.Pos
	aclAt     config.Pos
	lifeAt    config.Pos
	profileAt config.Pos
}

type iface struct {
	name     string
	prefix   netip.Prefix
	cryptoIn string // the crypto map applied to it
	line     *line
	addrAt   config.Pos
	down     bool
}

type ace struct {
	src, dst netip.Prefix
	line     *line
}

type ikev2Profile struct {
	remoteID, localID     string
	remoteIDAt, localIDAt config.Pos
	authLocal, authRemote string
	authLocalAt           config.Pos
	authRemoteAt          config.Pos
	keyring               string
	life                  time.Duration
	lifeAt                config.Pos
	dpd                   time.Duration
	dpdAt                 config.Pos
	line                  *line
}

type keyringPeer struct {
	peer          netip.Prefix
	local, remote string
	line          *line
}

// reader reads one IOS configuration into a node.
type reader struct {
	n    *config.Node
	errs scenarios.ErrorList

	policies   []*policy
	keys       []presharedKey
	amPeers    map[netip.Addr]*amPeer
	identity   string
	identityAt config.Pos
	hostname   string
	domain     string
	keepalive  time.Duration
	keepAt     config.Pos
	natKeep    time.Duration
	natKeepAt  config.Pos
	tsets      map[string]*transformSet
	saLife     time.Duration
	saLifeAt   config.Pos
	saKB       uint64
	saKBAt     config.Pos
	entries    []*mapEntry
	mapLocal   map[string]string // crypto map name -> interface of local-address
	mapLocalAt map[string]config.Pos
	ifaces     []*iface
	acls       map[string][]ace
	proposals2 map[string]string // IKEv2 proposal name -> proposal string
	prop2At    map[string]config.Pos
	policies2  []string // IKEv2 proposal names, in the order the policies list them
	policy2At  config.Pos
	keyrings   map[string][]keyringPeer
	profiles   map[string]*ikev2Profile
}

func (r *reader) errorf(l *line, i int, format string, args ...any) {
	r.errs = append(r.errs, errorAt(l, i, format, args...))
}

func (r *reader) note(l *line, format string, args ...any) {
	r.n.Notef(l.pos, "%s: %s", strings.Join(l.words, " "), fmt.Sprintf(format, args...))
}

// read reads the configuration's commands, then makes the connections of the crypto
// maps applied to interfaces.
func (r *reader) read(top []*line) error {
	r.amPeers = map[netip.Addr]*amPeer{}
	r.tsets = map[string]*transformSet{}
	r.mapLocal, r.mapLocalAt = map[string]string{}, map[string]config.Pos{}
	r.acls = map[string][]ace{}
	r.proposals2, r.prop2At = map[string]string{}, map[string]config.Pos{}
	r.keyrings = map[string][]keyringPeer{}
	r.profiles = map[string]*ikev2Profile{}
	r.saLife, r.saKB = defaultP2Life, defaultP2KB
	for _, l := range top {
		r.command(l)
	}
	r.interfacesToNode()
	r.connections()
	var left []*line
	unused(top, &left)
	for _, l := range left {
		r.n.Notef(l.pos, "%s: no equivalent in ikesim's scenarios; left out", strings.Join(l.words, " "))
	}
	if len(r.errs) > 0 {
		return r.errs
	}
	return nil
}

// command reads one top-level command.
func (r *reader) command(l *line) {
	switch {
	case l.is("hostname"):
		l.used, r.hostname = true, l.word(1)
	case l.is("ip", "domain", "name"), l.is("ip", "domain-name"):
		l.used, r.domain = true, l.words[len(l.words)-1]
	case l.is("version"), l.is("end"):
		l.used = true
	case l.is("crypto", "isakmp", "policy"):
		r.isakmpPolicy(l)
	case l.is("crypto", "isakmp", "key"):
		r.isakmpKey(l)
	case l.is("crypto", "isakmp", "peer", "address"):
		r.isakmpPeer(l)
	case l.is("crypto", "isakmp", "identity"):
		if w := l.word(3); w == "address" || w == "hostname" {
			l.used, r.identity, r.identityAt = true, w, l.pos
		}
	case l.is("crypto", "isakmp", "keepalive"):
		if d, ok := r.seconds(l, 3); ok {
			l.used, r.keepalive, r.keepAt = true, d, l.pos
			if len(l.words) > 4 {
				r.note(l, "the retry interval and periodic/on-demand are left out: the simulation sends R-U-THERE after the delay of silence")
			}
		}
	case l.is("crypto", "isakmp", "nat", "keepalive"):
		if d, ok := r.seconds(l, 4); ok {
			l.used, r.natKeep, r.natKeepAt = true, d, l.pos
		}
	case l.is("crypto", "ipsec", "transform-set"):
		r.transformSet(l)
	case l.is("crypto", "ipsec", "security-association", "lifetime"):
		r.saLifetime(l, 4, &r.saLife, &r.saKB, &r.saLifeAt, &r.saKBAt)
	case l.is("crypto", "map") && l.word(3) == "local-address":
		l.used = true
		r.mapLocal[l.word(2)], r.mapLocalAt[l.word(2)] = l.word(4), l.pos
	case l.is("crypto", "map"):
		r.cryptoMap(l)
	case l.is("interface"):
		r.iface(l)
	case l.is("access-list") && len(l.words) > 2:
		r.accessList(l, l.word(1), l.words[2:], 2)
	case l.is("ip", "access-list", "extended"):
		l.used = true
		for _, s := range l.subs {
			ws := s.words
			off := 0
			if _, err := strconv.Atoi(s.word(0)); err == nil {
				off = 1 // a sequence number
			}
			if strings.EqualFold(s.word(off), "remark") {
				s.used = true
				continue
			}
			r.accessList(s, l.word(3), ws[off:], off)
		}
	case l.is("crypto", "ikev2", "proposal"):
		r.ikev2Proposal(l)
	case l.is("crypto", "ikev2", "policy"):
		l.used = true
		for _, s := range l.subs {
			if s.is("proposal") {
				s.used = true
				r.policies2 = append(r.policies2, s.words[1:]...)
				r.policy2At = s.pos
			}
		}
	case l.is("crypto", "ikev2", "keyring"):
		r.keyring(l)
	case l.is("crypto", "ikev2", "profile"):
		r.ikev2ProfileCmd(l)
	}
}

// seconds reads a number of seconds at word i.
func (r *reader) seconds(l *line, i int) (time.Duration, bool) {
	n, err := strconv.ParseUint(l.word(i), 10, 32)
	if err != nil {
		r.errorf(l, i, "%q is not a number of seconds", l.word(i))
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// ikev1Groups maps IOS's group numbers to strongSwan's keywords.
var groups = map[string]string{"1": "modp768", "2": "modp1024", "5": "modp1536", "14": "modp2048", "15": "modp3072",
	"16": "modp4096", "19": "ecp256", "20": "ecp384", "21": "ecp521", "24": "modp2048s256"}

var hashes = map[string]string{"sha": "sha1", "md5": "md5", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}

func (r *reader) isakmpPolicy(l *line) {
	prio, err := strconv.Atoi(l.word(3))
	if err != nil {
		r.errorf(l, 3, "crypto isakmp policy needs a priority number, not %q", l.word(3))
		return
	}
	l.used = true
	p := &policy{prio: prio, encr: defaultPolicyEncr, hash: defaultPolicyHash, dh: defaultPolicyDH, auth: defaultPolicyAuth,
		life: defaultP1Life, line: l}
	for _, s := range l.subs {
		switch {
		case s.is("encryption") || s.is("encr"):
			s.used = true
			switch v := strings.ToLower(s.word(1)); v {
			case "des", "3des":
				p.encr = v
			case "aes":
				p.encr = "aes" + cmp.Or(s.word(2), "128")
			default:
				r.errorf(s, 1, "encryption %q is not des, 3des or aes [128|192|256]", s.word(1))
			}
			p.encrAt = s.pos
		case s.is("hash"):
			s.used = true
			h, ok := hashes[strings.ToLower(s.word(1))]
			if !ok {
				r.errorf(s, 1, "hash %q is not sha, md5, sha256, sha384 or sha512", s.word(1))
			}
			p.hash, p.hashAt = h, s.pos
		case s.is("group"):
			s.used = true
			g, ok := groups[s.word(1)]
			if !ok {
				r.errorf(s, 1, "group %q is not one of 1, 2, 5, 14, 15, 16, 19, 20, 21, 24", s.word(1))
			}
			p.dh, p.dhAt = g, s.pos
		case s.is("authentication"):
			s.used = true
			p.auth, p.authAt = strings.ToLower(s.word(1)), s.pos
		case s.is("lifetime"):
			if d, ok := r.seconds(s, 1); ok {
				s.used, p.life, p.lifeAt = true, d, s.pos
			}
		}
	}
	r.policies = append(r.policies, p)
}

func (r *reader) isakmpKey(l *line) {
	ws := l.words[3:]
	off := 3
	if len(ws) > 0 && (ws[0] == "0" || ws[0] == "6" || ws[0] == "7") {
		if ws[0] != "0" {
			r.errorf(l, 3, "an encrypted key (type %s) cannot be read; write it in clear (type 0)", ws[0])
			return
		}
		ws, off = ws[1:], off+1
	}
	if len(ws) < 3 || !strings.EqualFold(ws[1], "address") {
		if len(ws) >= 3 && strings.EqualFold(ws[1], "hostname") {
			r.note(l, "a key by host name: the simulation finds keys by address")
			l.used = true
			return
		}
		r.errorf(l, off, "crypto isakmp key needs KEY address ADDRESS [MASK]")
		return
	}
	a, err := netip.ParseAddr(ws[2])
	if err != nil || !a.Is4() {
		r.errorf(l, off+2, "%q is not an IPv4 address", ws[2])
		return
	}
	bits := 32
	if len(ws) > 3 && !strings.EqualFold(ws[3], "no-xauth") {
		m, ok := maskBits(ws[3], false)
		if !ok {
			r.errorf(l, off+3, "%q is not a network mask", ws[3])
			return
		}
		bits = m
	}
	l.used = true
	r.keys = append(r.keys, presharedKey{key: ws[0], peer: netip.PrefixFrom(a, bits).Masked(), line: l})
}

func (r *reader) isakmpPeer(l *line) {
	a, err := netip.ParseAddr(l.word(4))
	if err != nil || !a.Is4() {
		r.errorf(l, 4, "%q is not an IPv4 address", l.word(4))
		return
	}
	l.used = true
	p := &amPeer{line: l}
	for _, s := range l.subs {
		switch {
		case s.is("set", "aggressive-mode", "password"):
			s.used, p.password, p.pwAt = true, s.word(3), s.pos
		case s.is("set", "aggressive-mode", "client-endpoint"):
			s.used, p.idAt = true, s.pos
			switch s.word(3) {
			case "ipv4-address", "fqdn", "user-fqdn":
				p.id = s.word(4)
			default:
				s.used = false
			}
		}
	}
	r.amPeers[a] = p
}

// espTransforms maps IOS's transforms to strongSwan's keywords; the ones with a key
// size take it as the next word.
var espTransforms = map[string]string{"esp-des": "des", "esp-3des": "3des", "esp-aes": "aes", "esp-gcm": "gcm",
	"esp-null": "null", "esp-md5-hmac": "md5", "esp-sha-hmac": "sha1", "esp-sha256-hmac": "sha256",
	"esp-sha384-hmac": "sha384", "esp-sha512-hmac": "sha512"}

func (r *reader) transformSet(l *line) {
	name := l.word(3)
	var parts []string
	for i := 4; i < len(l.words); i++ {
		w := strings.ToLower(l.words[i])
		kw, ok := espTransforms[w]
		switch {
		case !ok && (strings.HasPrefix(w, "ah-") || strings.HasPrefix(w, "comp-") || w == "esp-gmac" || w == "esp-seal"):
			r.note(l, "%s: ikesim's scenarios have ESP only; left out", w)
			continue
		case !ok:
			r.errorf(l, i, "%q is not a transform (esp-aes, esp-sha-hmac, ...)", l.words[i])
			return
		case kw == "aes" || kw == "gcm":
			size := "128"
			if i+1 < len(l.words) {
				if _, err := strconv.Atoi(l.words[i+1]); err == nil {
					size = l.words[i+1]
					i++
				}
			}
			if kw == "aes" {
				kw = "aes" + size
			} else {
				kw = "aes" + size + "gcm16"
			}
		}
		parts = append(parts, kw)
	}
	l.used = true
	ts := &transformSet{proposal: strings.Join(parts, "-"), line: l}
	if _, err := ike.ParseProposal(ts.proposal, ike.ProtoESP); err != nil {
		r.errorf(l, 4, "transform set %s: %v", name, strings.TrimPrefix(err.Error(), "ike: "))
		return
	}
	for _, s := range l.subs {
		if s.is("mode") {
			s.used, ts.modeAt = true, s.pos
			ts.transport = strings.EqualFold(s.word(1), "transport")
		}
	}
	r.tsets[name] = ts
}

// saLifetime reads "... lifetime seconds N" or "... lifetime kilobytes N" at word i.
func (r *reader) saLifetime(l *line, i int, life *time.Duration, kb *uint64, lifeAt, kbAt *config.Pos) {
	n, err := strconv.ParseUint(l.word(i+1), 10, 64)
	if err != nil {
		r.errorf(l, i+1, "%q is not a number", l.word(i+1))
		return
	}
	switch strings.ToLower(l.word(i)) {
	case "seconds":
		l.used, *life, *lifeAt = true, time.Duration(n)*time.Second, l.pos
	case "kilobytes":
		l.used, *kb, *kbAt = true, n, l.pos
	}
}

func (r *reader) cryptoMap(l *line) {
	seq, err := strconv.Atoi(l.word(3))
	if err != nil || !strings.EqualFold(l.word(4), "ipsec-isakmp") {
		return // client configuration, dynamic maps, ...: left out
	}
	if len(l.words) > 5 {
		r.note(l, "a dynamic crypto map: left out")
		l.used = true
		return
	}
	l.used = true
	e := &mapEntry{name: l.word(2), seq: seq, line: l, life: -1}
	for _, s := range l.subs {
		switch {
		case s.is("description"):
			s.used = true
		case s.is("set", "peer"):
			a, err := netip.ParseAddr(s.word(2))
			if err != nil || !a.Is4() {
				r.errorf(s, 2, "%q is not an IPv4 address", s.word(2))
				continue
			}
			s.used = true
			if e.peer.IsValid() {
				r.note(s, "a backup peer: the simulation uses the first")
				continue
			}
			e.peer, e.peerAt = a, s.pos
		case s.is("set", "transform-set"):
			s.used, e.tsets, e.tsetAt = true, s.words[2:], s.pos
		case s.is("set", "pfs"):
			g := "1"
			if w := s.word(2); w != "" {
				g = strings.TrimPrefix(strings.ToLower(w), "group")
			}
			grp, ok := groups[g]
			if !ok {
				r.errorf(s, 2, "%q is not a group (group1, group2, group5, group14, ...)", s.word(2))
				continue
			}
			s.used, e.pfs, e.pfsAt = true, grp, s.pos
		case s.is("match", "address"):
			s.used, e.acl, e.aclAt = true, s.word(2), s.pos
		case s.is("set", "security-association", "lifetime"):
			var kb uint64
			var at config.Pos
			life := time.Duration(-1)
			r.saLifetime(s, 3, &life, &kb, &e.lifeAt, &at)
			if life >= 0 {
				e.life = life
			}
			if kb > 0 {
				e.kbytes = kb
			}
		case s.is("set", "ikev2-profile"):
			s.used, e.profile, e.profileAt = true, s.word(2), s.pos
		}
	}
	r.entries = append(r.entries, e)
}

func (r *reader) iface(l *line) {
	l.used = true
	f := &iface{name: l.word(1), line: l}
	for _, s := range l.subs {
		switch {
		case s.is("ip", "address") && len(s.words) >= 4:
			a, err := netip.ParseAddr(s.word(2))
			bits, ok := maskBits(s.word(3), false)
			if err != nil || !a.Is4() || !ok {
				r.errorf(s, 2, "ip address needs ADDRESS MASK (10.1.0.1 255.255.255.0)")
				continue
			}
			s.used = true
			if s.word(4) == "secondary" || f.prefix.IsValid() {
				r.note(s, "a secondary address: left out")
				continue
			}
			f.prefix, f.addrAt = netip.PrefixFrom(a, bits), s.pos
		case s.is("no", "ip", "address"), s.is("no", "shutdown"), s.is("description"):
			s.used = true
		case s.is("shutdown"):
			s.used, f.down = true, true
		case s.is("crypto", "map"):
			s.used, f.cryptoIn = true, s.word(2)
		}
	}
	if f.down && f.prefix.IsValid() {
		r.note(l, "shut down: left out")
	}
	r.ifaces = append(r.ifaces, f)
}

// maskBits reads a network mask (255.255.255.0), or with wildcard a wildcard mask
// (0.0.0.255); only contiguous masks have a prefix length.
func maskBits(s string, wildcard bool) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if wildcard {
		m = ^m
	}
	n := bits.LeadingZeros32(^m)
	if m != ^uint32(0)<<(32-n) && n != 32 {
		return 0, false
	}
	return n, true
}

// accessList reads one entry of an access list: the address parts become selectors,
// what they cannot say (protocols, ports, deny) a note.
func (r *reader) accessList(l *line, name string, ws []string, off int) {
	if len(ws) == 0 || (!strings.EqualFold(ws[0], "permit") && !strings.EqualFold(ws[0], "deny")) {
		return
	}
	if strings.EqualFold(ws[0], "deny") {
		l.used = true
		r.note(l, "a deny entry: ikesim's policies protect, they do not exempt; left out")
		return
	}
	i := 2
	addr := func() (netip.Prefix, bool) {
		if i >= len(ws) {
			return netip.Prefix{}, false
		}
		switch w := strings.ToLower(ws[i]); {
		case w == "any":
			i++
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
		case w == "host" && i+1 < len(ws):
			a, err := netip.ParseAddr(ws[i+1])
			i += 2
			return netip.PrefixFrom(a, 32), err == nil && a.Is4()
		case i+1 < len(ws):
			a, err := netip.ParseAddr(ws[i])
			bits, ok := maskBits(ws[i+1], true)
			i += 2
			return netip.PrefixFrom(a, bits).Masked(), err == nil && a.Is4() && ok
		}
		return netip.Prefix{}, false
	}
	ports := func() bool {
		if i < len(ws) {
			switch strings.ToLower(ws[i]) {
			case "eq", "gt", "lt", "neq":
				i += 2
				return true
			case "range":
				i += 3
				return true
			}
		}
		return false
	}
	if len(ws) < 2 {
		r.errorf(l, off+len(ws), "access list %s: a protocol and two addresses expected", name)
		return
	}
	proto := strings.ToLower(ws[1])
	srcAt := i
	src, ok := addr()
	p1 := ports()
	dstAt := i
	dst, ok2 := addr()
	p2 := ports()
	if !ok || !ok2 {
		bad := srcAt
		if ok {
			bad = dstAt
		}
		r.errorf(l, off+bad, "access list %s: an address (any, host A, or A WILDCARD with a contiguous wildcard) expected", name)
		return
	}
	l.used = true
	if proto != "ip" || p1 || p2 {
		r.note(l, "ikesim's selectors cover all protocols and ports; the entry protects all traffic between %s and %s", src, dst)
	}
	if i > len(ws) {
		r.errorf(l, off+len(ws), "access list %s: a port expected", name)
		return
	}
	if i < len(ws) {
		r.note(l, "%s: left out", strings.Join(ws[i:], " "))
	}
	r.acls[name] = append(r.acls[name], ace{src: src, dst: dst, line: l})
}

// ikev2 algorithm names of IOS's IKEv2 proposals.
var (
	ikev2Encr = map[string]string{"des": "des", "3des": "3des", "aes-cbc-128": "aes128", "aes-cbc-192": "aes192",
		"aes-cbc-256": "aes256", "aes-gcm-128": "aes128gcm16", "aes-gcm-256": "aes256gcm16"}
	ikev2Integ = map[string]string{"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
)

func (r *reader) ikev2Proposal(l *line) {
	l.used = true
	var encr, integ, prf, dh []string
	for _, s := range l.subs {
		var table map[string]string
		var dst *[]string
		switch {
		case s.is("encryption"):
			table, dst = ikev2Encr, &encr
		case s.is("integrity"):
			table, dst = ikev2Integ, &integ
		case s.is("prf"):
			table, dst = ikev2Integ, &prf
		case s.is("group"):
			table, dst = groups, &dh
		default:
			continue
		}
		s.used = true
		for i, w := range s.words[1:] {
			kw, ok := table[strings.ToLower(w)]
			if !ok {
				r.errorf(s, i+1, "%q is not an algorithm IOS's %s takes", w, s.word(0))
				continue
			}
			if dst == &prf {
				kw = "prf" + kw
			}
			*dst = append(*dst, kw)
		}
	}
	p := strings.Join(slices.Concat(encr, integ, prf, dh), "-")
	if _, err := ike.ParseProposal(p, ike.ProtoIKE); err != nil {
		r.errorf(l, 3, "IKEv2 proposal %s: %v", l.word(3), strings.TrimPrefix(err.Error(), "ike: "))
		return
	}
	r.proposals2[l.word(3)], r.prop2At[l.word(3)] = p, l.pos
}

func (r *reader) keyring(l *line) {
	l.used = true
	name := l.word(3)
	for _, s := range l.subs {
		if !s.is("peer") {
			continue
		}
		s.used = true
		kp := keyringPeer{line: s}
		for _, t := range s.subs {
			switch {
			case t.is("address"):
				a, err := netip.ParseAddr(t.word(1))
				bits := 32
				if t.word(2) != "" {
					bits, _ = maskBits(t.word(2), false)
				}
				if err != nil || !a.Is4() {
					r.errorf(t, 1, "%q is not an IPv4 address", t.word(1))
					continue
				}
				t.used, kp.peer = true, netip.PrefixFrom(a, bits).Masked()
			case t.is("pre-shared-key"):
				t.used = true
				switch t.word(1) {
				case "local":
					kp.local = t.words[len(t.words)-1]
				case "remote":
					kp.remote = t.words[len(t.words)-1]
				default:
					kp.local, kp.remote = t.words[len(t.words)-1], t.words[len(t.words)-1]
				}
			case t.is("description"):
				t.used = true
			}
		}
		r.keyrings[name] = append(r.keyrings[name], kp)
	}
}

func (r *reader) ikev2ProfileCmd(l *line) {
	l.used = true
	p := &ikev2Profile{line: l, life: defaultIKEv2Life}
	id := func(s *line, i int) (string, bool) {
		switch strings.ToLower(s.word(i)) {
		case "address", "email":
			return s.word(i + 1), true
		case "fqdn":
			return s.words[len(s.words)-1], true
		}
		return "", false
	}
	for _, s := range l.subs {
		switch {
		case s.is("match", "identity", "remote"):
			if v, ok := id(s, 3); ok {
				s.used, p.remoteID, p.remoteIDAt = true, v, s.pos
			}
		case s.is("identity", "local"):
			if v, ok := id(s, 2); ok {
				s.used, p.localID, p.localIDAt = true, v, s.pos
			}
		case s.is("authentication", "local"):
			s.used, p.authLocal, p.authLocalAt = true, strings.ToLower(s.word(2)), s.pos
		case s.is("authentication", "remote"):
			s.used, p.authRemote, p.authRemoteAt = true, strings.ToLower(s.word(2)), s.pos
		case s.is("keyring", "local"):
			s.used, p.keyring = true, s.word(2)
		case s.is("lifetime"):
			if d, ok := r.seconds(s, 1); ok {
				s.used, p.life, p.lifeAt = true, d, s.pos
			}
		case s.is("dpd"):
			if d, ok := r.seconds(s, 1); ok {
				s.used, p.dpd, p.dpdAt = true, d, s.pos
			}
		}
	}
	r.profiles[l.word(3)] = p
}

// interfacesToNode gives the node its interface addresses.
func (r *reader) interfacesToNode() {
	for i, f := range r.ifaces {
		if !f.prefix.IsValid() || f.down {
			continue
		}
		lo := strings.HasPrefix(strings.ToLower(f.name), "loopback")
		r.n.Ifaces = append(r.n.Ifaces, config.Iface{Name: f.name, Prefix: f.prefix, Loopback: lo, Outside: f.cryptoIn != "", Pos: f.addrAt})
		r.n.Set(fmt.Sprintf("iface.%d", i), f.addrAt)
	}
}

func (r *reader) ifaceNamed(name string) *iface {
	for _, f := range r.ifaces {
		if strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}
