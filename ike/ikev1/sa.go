package ikev1

import (
	"crypto/hmac"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/daemon"
)

// isakmpSA is one ISAKMP SA (phase 1) and the exchanges that run under it.
type isakmpSA struct {
	d          *Daemon
	conn       *ike.Connection
	serial     int
	initiator  bool // this side sent the first phase 1 message
	aggressive bool
	icookie    uint64
	rcookie    uint64
	local      netip.AddrPort
	remote     netip.AddrPort
	state      State // the Cisco IOS state name

	established bool
	deleted     bool
	replaces    *isakmpSA // the ISAKMP SA this one rekeys
	replacedBy  *isakmpSA
	halfOpen    *halfOpenKey // a responder's SA in phase 1: where the daemon counts it
	// peerError is the last error notification that came in clear during phase 1: anyone
	// could have sent it, so it ends nothing, but a phase 1 that then fails names it.
	peerError NotifyType
	// authError is why the last phase 1 message that should have authenticated the peer
	// did not: a phase 1 that then fails names it.
	authError string
	// rejected are the last messages dropped as unauthenticated: the same bytes again
	// are dropped without another Diffie-Hellman or HASH computation.
	rejected []string
	// rx is the message being handled: where it came from and the protection it was
	// read with, until accept takes it.
	rx *received

	// Negotiated in phase 1.
	chosen   p1Offer
	proposal ike.Proposal
	encr     *ike.EncrAlg
	hash     *HashAlg
	prf      *ike.PRFAlg
	group    *ike.DHGroup
	life     time.Duration

	// Phase 1 material (RFC 2409, Section 5).
	saiB     []byte // body of the initiator's SA payload
	dhPriv   ike.DHPrivate
	gxi, gxr []byte
	ni, nr   []byte
	gxy      []byte
	keys     Keys
	encKey   []byte
	ivs      *IVs
	peerID   ike.Identity
	peerIDb  []byte // the body of the peer's aggressive mode ID payload, for HASH_I

	// What the peer announced (vendor IDs) and what NAT discovery found (RFC 3947).
	peerNATT, peerDPD, peerXAUTH bool
	natLocal, natRemote          bool

	flights     map[uint32]*flight
	flightOrder []uint32

	quickModes map[uint32]*quickMode
	cfg        *modeConfig
	// ready is set once phase 1 and any XAUTH and Mode Config are done: quick modes wait
	// for it in waiting.
	ready   bool
	waiting []func()
	pending []uint32 // reqids of the IPsec SAs that wait for the SA to be ready

	children []*ipsecSA

	dpdSeq     uint32 // the last R-U-THERE sequence number sent
	dpdPending bool
	dpdTries   int
	timers     daemon.Timers
	lastIn     time.Time
	lastOut    time.Time
}

// flight is what one exchange has seen and sent: the last message this side sent (to
// send again), the last messages accepted from the peer (to recognise its
// retransmissions), and the retransmission timer while this side waits for the peer.
type flight struct {
	exchange ExchangeType
	raw      []byte
	info     *ike.MessageInfo
	seen     []seenMsg // the last maxSeen messages accepted in the exchange
	answers  string    // the received message our last one answers
	timer    ike.Timer
	tries    int
	waiting  bool
	giveUp   func()
}

// seenMsg is a message accepted in an exchange, with the protection it was read with.
type seenMsg struct {
	raw string
	c   *Crypto
}

// maxSeen bounds the accepted messages a flight remembers: a quick mode has three.
const maxSeen = 4

func (f *flight) seenAs(raw []byte) (*Crypto, bool) {
	for _, m := range f.seen {
		if m.raw == string(raw) {
			return m.c, true
		}
	}
	return nil, false
}

func (f *flight) remember(raw []byte, c *Crypto) {
	if len(f.seen) == maxSeen {
		f.seen = f.seen[1:]
	}
	f.seen = append(f.seen, seenMsg{string(raw), c})
}

// received is a message under way through handle.
type received struct {
	local, remote netip.AddrPort
	dg            ike.Datagram
	c             *Crypto
}

func (d *Daemon) newSA(c *ike.Connection, initiator bool, local, remote netip.AddrPort) *isakmpSA {
	d.serial++
	return &isakmpSA{d: d, conn: c, serial: d.serial, initiator: initiator, local: local, remote: remote,
		state: IKE_READY, flights: map[uint32]*flight{}, quickModes: map[uint32]*quickMode{}, timers: daemon.NewTimers(d.env.Clock)}
}

func (sa *isakmpSA) name() string {
	if sa.conn == nil {
		return fmt.Sprintf("ISAKMP SA #%d", sa.serial)
	}
	return "ISAKMP SA " + sa.instance()
}

// instance names the SA among the node's ISAKMP SAs: "site-to-site[1]".
func (sa *isakmpSA) instance() string { return ike.SAInstance(sa.conn, sa.serial) }

// connName is the name of the SA's connection ("" before a responder knows it).
func (sa *isakmpSA) connName() string { return ike.ConnName(sa.conn) }

func (sa *isakmpSA) setState(s State) {
	if sa.state == s {
		return
	}
	sa.d.env.Observer.State(ike.StateChange{Machine: sa.name(), Kind: "ISAKMP SA", Instance: sa.instance(), Type: ike.SATypeIKE, Conn: sa.connName(), From: string(sa.state), To: string(s)})
	sa.state = s
}

func (sa *isakmpSA) action(format string, args ...any) { sa.d.action(format, args...) }

// flight returns the record of exchange id, making it when new. Past maxFlights
// records the oldest one that waits for nothing is forgotten, with the IV of its
// exchange; phase 1's record (message ID 0) stays.
func (sa *isakmpSA) flight(id uint32, ex ExchangeType) *flight {
	if f := sa.flights[id]; f != nil {
		return f
	}
	f := &flight{exchange: ex}
	sa.flights[id] = f
	sa.flightOrder = append(sa.flightOrder, id)
	if len(sa.flightOrder) > maxFlights {
		for i, old := range sa.flightOrder {
			if o := sa.flights[old]; old != 0 && old != id && !o.waiting && sa.quickModes[old] == nil {
				delete(sa.flights, old)
				sa.flightOrder = slices.Delete(sa.flightOrder, i, i+1)
				if sa.ivs != nil {
					sa.ivs.Forget(old)
				}
				break
			}
		}
	}
	return f
}

// outMsg is a message to send.
type outMsg struct {
	ex            ExchangeType
	id            uint32
	payloads      []Payload
	encrypt       bool
	exchInitiator bool     // sent by the side that opened the exchange
	answers       *Message // the received message this one answers
	wait          bool     // retransmit until the peer's next message of the exchange
	giveUp        func()   // called when the retransmissions run out
}

// send builds, records and sends a message. Encrypted messages advance the IV chain of
// their exchange (RFC 2409, Appendix B).
func (sa *isakmpSA) send(o outMsg) bool {
	m := &Message{Header: Header{ICookie: sa.icookie, RCookie: sa.rcookie, Exchange: o.ex, MessageID: o.id}, Payloads: o.payloads}
	var c *Crypto
	if o.encrypt {
		m.Flags = FlagEncryption
		c = sa.ivs.Crypto(sa.encr, sa.encKey, o.id)
	}
	raw, err := m.Marshal(c)
	if err != nil {
		sa.d.errorf(sa, 0, ike.FailInternal, "%s: cannot build %v message: %v", sa.name(), o.ex, err)
		return false
	}
	if o.encrypt {
		sa.ivs.Advance(o.id, raw)
	}
	info := &ike.MessageInfo{Version: 1, Exchange: o.ex.String(), MessageID: o.id, Response: !o.exchInitiator,
		MessageFacts: Describe(m, o.exchInitiator), Dissect: lazyDissect(raw, c), Weak: sa.weakIn(m)}
	f := sa.flight(o.id, o.ex)
	if f.timer != nil {
		f.timer.Stop()
	}
	f.raw, f.info, f.tries, f.waiting, f.giveUp = raw, info, 0, o.wait, o.giveUp
	f.answers = ""
	if o.answers != nil {
		f.answers = string(o.answers.Raw)
	}
	sa.transmit(raw, info)
	if o.wait {
		sa.armRetransmit(o.id, f)
	}
	return true
}

func (sa *isakmpSA) transmit(raw []byte, info *ike.MessageInfo) {
	sa.lastOut = sa.d.env.Clock.Now()
	sa.d.env.Transport.Send(ike.Datagram{Local: sa.local, Remote: sa.remote, Data: raw, Info: info})
}

func (sa *isakmpSA) armRetransmit(id uint32, f *flight) {
	wait, tries := daemon.Backoff(sa.conn, f.tries)
	f.timer = sa.d.env.Clock.AfterFunc(wait, fmt.Sprintf("retransmit %v message (M-ID 0x%08x)", f.exchange, id), func() {
		if !f.waiting || sa.deleted {
			return
		}
		f.tries++
		if f.tries >= tries {
			f.waiting = false
			sa.d.errorf(sa, 0, ike.FailTimeout, "%s: no answer to our %v message after %d tries: giving up, the peer is unreachable or dead",
				sa.name(), f.exchange, tries)
			if f.giveUp != nil {
				f.giveUp()
			}
			return
		}
		sa.action("No answer to our %v message within %s: retransmit it (try %d of %d)", f.exchange,
			wait.Round(time.Millisecond), f.tries+1, tries)
		info := *f.info
		info.Retransmit = true
		sa.transmit(f.raw, &info)
		sa.armRetransmit(id, f)
	})
}

// stopWaiting ends the retransmission of exchange id: the peer's answer came.
func (sa *isakmpSA) stopWaiting(id uint32) {
	if f := sa.flights[id]; f != nil {
		f.waiting = false
		if f.timer != nil {
			f.timer.Stop()
			f.timer = nil
		}
	}
}

// handle processes a message that belongs to this SA. Nothing in the SA changes
// before the message is authenticated: its IV chain, the retransmission timers, the
// record of what was seen, the time the peer was last heard from and its address move
// only in accept, which the HASH check (or for phase 1, the step that verifies HASH_I,
// HASH_R or a signature, or takes a clear message) calls.
func (sa *isakmpSA) handle(local, remote netip.AddrPort, m *Message) {
	d := sa.d
	obs := d.env.Observer
	info := &ike.MessageInfo{Version: 1, Exchange: m.Exchange.String(), MessageID: m.MessageID}
	dg := ike.Datagram{Local: local, Remote: remote, Data: m.Raw, Info: info}
	if f := sa.flights[m.MessageID]; f != nil {
		if c, seen := f.seenAs(m.Raw); seen {
			// The same bytes as a message accepted before: a retransmission (or a
			// replay, which gets the same answer and changes nothing else).
			if c != nil {
				m.Decrypt(c) // with the IV it had the first time, for the trace only
			}
			info.Dissect = lazyDissect(m.Raw, c)
			info.MessageFacts = Describe(m, sa.peerOpened(m))
			info.Summary += " (again)"
			info.Retransmit = true
			obs.Received(dg)
			if string(m.Raw) == f.answers && f.raw != nil {
				sa.action("The peer sent its %v message again (our answer was lost or is late): send our answer again", m.Exchange)
				again := *f.info
				again.Retransmit = true
				sa.transmit(f.raw, &again)
			} else {
				sa.action("The peer sent a %v message again that was already processed: ignore it", m.Exchange)
			}
			return
		}
	}
	if slices.Contains(sa.rejected, string(m.Raw)) {
		info.Dissect = lazyDissect(m.Raw, nil)
		obs.Dropped(dg, "the same bytes as a message that could not be read or did not verify before: drop it again")
		return
	}
	var c *Crypto
	if m.Encrypted() && m.MessageID != 0 && !sa.established {
		// A phase 2 or XAUTH message that overtook the last phase 1 message (or whose
		// phase 1 message was lost): its IV comes from the end of phase 1, which this
		// side has not seen yet, so it cannot be read now, but its retransmission can be
		// once phase 1 is complete. It is not recorded as unreadable.
		info.Dissect = lazyDissect(m.Raw, nil)
		obs.Dropped(dg, fmt.Sprintf("%v message before phase 1 is complete", m.Exchange))
		return
	}
	if m.Encrypted() {
		if sa.ivs == nil {
			info.Dissect = lazyDissect(m.Raw, nil)
			obs.Dropped(dg, "encrypted message before the keys exist")
			return
		}
		// The IV of its exchange (RFC 2409, Appendix B); the chain moves on only if the
		// message is accepted.
		c = sa.ivs.Crypto(sa.encr, sa.encKey, m.MessageID)
		if err := m.Decrypt(c); err != nil {
			info.Dissect = lazyDissect(m.Raw, c)
			sa.decryptFailed(dg, m, err)
			return
		}
	}
	fromInit := sa.peerOpened(m)
	info.MessageFacts, info.Response, info.Dissect = Describe(m, fromInit), !fromInit, lazyDissect(m.Raw, c)
	info.Weak = sa.weakIn(m)
	sa.rx = &received{local: local, remote: remote, dg: dg, c: c}
	defer func() {
		if sa.rx != nil { // a step that neither took nor refused it
			sa.drop(fmt.Sprintf("%v message not taken in state %s", m.Exchange, sa.state))
		}
	}()
	if why, forged := sa.admit(m); why != "" {
		if forged {
			sa.reject(m.Raw)
		}
		sa.drop(why)
		return
	}
	switch m.Exchange {
	case ExchangeMain, ExchangeAggressive:
		sa.phase1(m) // each step accepts the message once it has checked it
	case ExchangeQuick:
		sa.accept(m)
		sa.quickMode(m)
	case ExchangeTransaction:
		sa.accept(m)
		sa.transaction(m)
	case ExchangeInformational:
		if m.Encrypted() {
			sa.accept(m)
		} else {
			sa.rx = nil // in clear: read, but it changes nothing that accept would
			obs.Received(dg)
		}
		sa.informational(m)
	}
}

// admit says why a message must be dropped before anything acts on it, or "": an
// exchange that the SA's phase does not allow, or (forged) a protected message whose
// HASH does not verify, which no later state would accept either.
func (sa *isakmpSA) admit(m *Message) (why string, forged bool) {
	switch m.Exchange {
	case ExchangeMain, ExchangeAggressive:
		if sa.established {
			// strongSwan ignores main and aggressive mode on an established IKE SA.
			return fmt.Sprintf("%v message on an ISAKMP SA whose phase 1 is complete", m.Exchange), false
		}
		if m.Exchange != sa.exchange() {
			return fmt.Sprintf("%v message in a %v exchange", m.Exchange, sa.exchange()), false
		}
		return "", false
	case ExchangeQuick, ExchangeTransaction, ExchangeInformational:
	default:
		return fmt.Sprintf("%v exchange is not supported", m.Exchange), false
	}
	if !m.Encrypted() {
		if m.Exchange == ExchangeInformational && !sa.established {
			return "", false // RFC 2408, Section 4.8: phase 1 errors go in clear; informational reads them as such
		}
		return fmt.Sprintf("unprotected %v message: after phase 1 only messages under the ISAKMP SA's protection count", m.Exchange), false
	}
	if !sa.established {
		// The keys exist from main mode message 4 on, but the peer is authenticated
		// only by message 5 or 6: with signatures, anyone who did the Diffie-Hellman
		// exchange holds SKEYID_a. strongSwan likewise ignores quick mode and XAUTH until
		// the last phase 1 message.
		return fmt.Sprintf("%v message before phase 1 is complete", m.Exchange), false
	}
	if m.Exchange == ExchangeQuick {
		if why := sa.admitQuickMode(m); why != "" {
			return why, false
		}
	}
	if why := sa.checkHash(m); why != "" {
		return why, true
	}
	if m.Exchange == ExchangeTransaction {
		return sa.admitTransaction(m), false
	}
	return "", false
}

// checkHash verifies the HASH that opens a protected quick mode, transaction or
// informational message: HASH(1) = prf(SKEYID_a, M-ID | the payloads after it) (RFC
// 2409, Sections 5.5 and 5.7; the transaction exchange of the Mode Config draft), or in
// a quick mode this side runs, HASH(2) or HASH(3). A message that fails is dropped
// without an answer: RFC 2408, Section 5.11 makes the INVALID-HASH-INFORMATION
// notification optional, and under the ISAKMP SA's keys it would reach the real peer as
// if the forger's message had been its own.
func (sa *isakmpSA) checkHash(m *Message) string {
	h := firstHash(m)
	if h == nil {
		return fmt.Sprintf("%v message 0x%08x does not start with a HASH payload", m.Exchange, m.MessageID)
	}
	want, name := []byte(nil), "HASH(1)"
	if qm := sa.quickModes[m.MessageID]; qm != nil && m.Exchange == ExchangeQuick {
		if qm.initiator {
			want, name = QuickHash2(sa.prf, sa.keys.SKEYID_a, qm.msgID, qm.ni, m.After(0)), "HASH(2)"
		} else {
			want, name = QuickHash3(sa.prf, sa.keys.SKEYID_a, qm.msgID, qm.ni, qm.nr), "HASH(3)"
		}
	}
	if want == nil {
		want = QuickHash1(sa.prf, sa.keys.SKEYID_a, m.MessageID, m.After(0))
	}
	if !hmac.Equal(h.Data, want) {
		return fmt.Sprintf("%v message 0x%08x: %s does not verify (altered, or not from the peer)", m.Exchange, m.MessageID, name)
	}
	return ""
}

// accept takes a message that has been checked: it reports it, moves the IV chain of
// its exchange on (RFC 2409, Appendix B), remembers it to recognise a retransmission,
// ends the retransmission of this side's last message in the exchange and notes that
// the peer is alive. A protected message moves the SA to the addresses it came from and
// went to only when a NAT is in play (RFC 3947: the mapping may change; RFC 7296,
// Section 2.23 says the same for IKEv2): a peer without a NAT has no reason to move.
func (sa *isakmpSA) accept(m *Message) {
	rx := sa.rx
	if rx == nil {
		return
	}
	sa.rx = nil
	sa.d.env.Observer.Received(rx.dg)
	if rx.c != nil {
		sa.ivs.Advance(m.MessageID, m.Raw)
	}
	sa.flight(m.MessageID, m.Exchange).remember(m.Raw, rx.c)
	sa.stopWaiting(m.MessageID)
	sa.lastIn = sa.d.env.Clock.Now()
	if !m.Encrypted() || !sa.behindNAT() {
		return
	}
	if rx.local != sa.local {
		sa.action("The peer now sends to %s: answer from there (NAT traversal moved to UDP 4500)", rx.local)
		sa.local = rx.local
	}
	if rx.remote != sa.remote {
		sa.action("The peer's address changed from %s to %s (NAT mapping): answer to the new one", sa.remote, rx.remote)
		sa.remote = rx.remote
	}
}

// drop reports the message being handled as discarded, for a reason, and the step that
// checked it as failed: nothing in the SA changes.
func (sa *isakmpSA) drop(reason string) {
	if rx := sa.rx; rx != nil {
		sa.rx = nil
		sa.d.env.Observer.Dropped(rx.dg, reason)
	}
}

// maxRejected bounds the record of rejected messages.
const maxRejected = 4

// reject remembers a message that can never be accepted (it does not decrypt, or its
// HASH, HASH_I, HASH_R or signature does not verify): not a message that came too early,
// which its retransmission may bring again in time.
func (sa *isakmpSA) reject(raw []byte) {
	if len(sa.rejected) == maxRejected {
		sa.rejected = sa.rejected[1:]
	}
	sa.rejected = append(sa.rejected, string(raw))
}

// peerOpened says whether the peer opened the exchange of a message it sent: the
// summary names payloads after the side of the exchange that sent them.
func (sa *isakmpSA) peerOpened(m *Message) bool {
	switch m.Exchange {
	case ExchangeMain, ExchangeAggressive:
		return !sa.initiator
	case ExchangeQuick:
		if qm := sa.quickModes[m.MessageID]; qm != nil {
			return !qm.initiator
		}
		return true
	case ExchangeTransaction:
		if f := sa.flights[m.MessageID]; f != nil && f.raw != nil && f.answers == "" {
			return false
		}
		return true
	case ExchangeInformational:
		return notifyOf(m.Payloads, R_U_THERE_ACK) == nil
	}
	return true
}

// decryptFailed handles a message whose payloads are garbage after decryption. In phase
// 1 that is how a wrong pre-shared key shows: SKEYID, and so the encryption key, differ.
// The SA goes on waiting for a message that reads (a forgery must not end it): like
// strongSwan, this side tells the peer PAYLOAD-MALFORMED, and a phase 1 that cannot
// complete ends at the half-open timeout or when the retransmissions run out.
func (sa *isakmpSA) decryptFailed(dg ike.Datagram, m *Message, err error) {
	d := sa.d
	which := fmt.Sprintf("%v message", m.Exchange)
	switch {
	case m.Exchange == ExchangeMain && !sa.initiator && sa.state == IKE_R_MM4:
		which = "Main Mode message 5"
	case m.Exchange == ExchangeMain && sa.initiator && sa.state == IKE_I_MM5:
		which = "Main Mode message 6"
	case m.Exchange == ExchangeAggressive && !sa.initiator:
		which = "Aggressive Mode message 3"
	}
	sa.reject(m.Raw)
	d.env.Observer.Dropped(dg, fmt.Sprintf("%s: cannot decrypt and verify it (%v)", which, err))
	if m.MessageID != 0 || sa.established {
		return
	}
	d.errorf(sa, PAYLOAD_MALFORMED, ike.FailRefused, "%s: %s from %s decrypts to malformed payloads (PAYLOAD-MALFORMED): "+
		"the encryption keys differ, so the pre-shared keys of the two peers differ", sa.name(), which, dg.Remote.Addr())
	sa.notify(PAYLOAD_MALFORMED, 0, nil)
}

func (sa *isakmpSA) startTimer(name string, d time.Duration, f func()) { sa.timers.Start(name, d, f) }

func (sa *isakmpSA) stopTimer(name string) { sa.timers.Stop(name) }

// stopTimers cancels every timer: the named ones, the retransmissions, the IPsec SAs'.
func (sa *isakmpSA) stopTimers() {
	sa.timers.StopAll()
	for _, id := range sa.flightOrder {
		if f := sa.flights[id]; f != nil {
			f.waiting = false
			if f.timer != nil {
				f.timer.Stop()
				f.timer = nil
			}
		}
	}
	for _, ch := range sa.children {
		ch.stopTimers()
	}
}

func (sa *isakmpSA) info() *ike.IKESAInfo {
	i := &ike.IKESAInfo{Version: 1, SPIi: sa.icookie, SPIr: sa.rcookie, Initiator: sa.initiator, Local: sa.local,
		Remote: sa.remote, Proposal: sa.proposal, EncKey: sa.encKey, RemoteID: sa.peerID, Established: sa.d.env.Clock.Now(),
		Instance: sa.instance()}
	if sa.conn != nil {
		i.Conn, i.LocalID = sa.conn.Name, sa.conn.Local.ID
	}
	return i
}

// destroy ends the ISAKMP SA without telling the peer. With keepChildren its IPsec SAs
// stay installed (in IKEv1 they do not depend on the ISAKMP SA); otherwise they go too.
func (sa *isakmpSA) destroy(reason string, keepChildren bool) {
	if sa.deleted {
		return
	}
	sa.stopTimers()
	if keepChildren {
		sa.deleted = true
		heir := sa.d.activeSA(sa.conn)
		if heir != nil && !heir.established {
			heir = nil
		}
		for _, ch := range sa.children {
			ch.sa = heir
			if heir == nil {
				ch.armTimers()
			}
		}
		if heir != nil {
			heir.children = append(heir.children, sa.children...)
		} else {
			sa.d.orphans = append(sa.d.orphans, sa.children...)
		}
	} else {
		for _, ch := range sa.children {
			ch.down(reason)
		}
	}
	sa.children = nil
	for _, id := range sa.flightOrder {
		if qm := sa.quickModes[id]; qm != nil {
			qm.abort()
		}
	}
	if sa.established || sa.encKey != nil {
		// An SA that failed after its keys were made (different pre-shared keys) reports
		// them too: its encrypted messages can be decrypted with them.
		sa.d.env.Observer.IKESADown(sa.info(), reason)
	}
	sa.releaseVirtualIP()
	sa.setState(IKE_DEST_SA)
	sa.deleted = true
	sa.d.unregister(sa)
	if !sa.ready {
		for _, reqid := range sa.pending {
			sa.d.core.AcquireFailed(reqid, reason)
		}
	}
	sa.waiting, sa.pending = nil, nil
}

// failWith ends an SA that could not be established or must go, with the notify sent
// or received (0: none) and the reason of the failure.
func (sa *isakmpSA) failWith(n NotifyType, why ike.FailReason, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	sa.d.errorf(sa, n, why, "%s: %s", sa.name(), reason)
	sa.destroy(reason, false)
}

// whenReady runs f once phase 1, XAUTH and Mode Config are done.
func (sa *isakmpSA) whenReady(f func()) {
	if sa.ready && !sa.deleted {
		f()
		return
	}
	sa.waiting = append(sa.waiting, f)
}

// becomeReady runs what waited for the SA.
func (sa *isakmpSA) becomeReady() {
	if sa.ready || sa.deleted {
		return
	}
	sa.ready = true
	w := sa.waiting
	sa.waiting = nil
	for _, f := range w {
		f()
	}
}

// InstalledChild is the newest installed IPsec SA of the configuration named name
// (daemon.NamedChild).
func (sa *isakmpSA) InstalledChild(name string) (*ipsecSA, bool) {
	var found *ipsecSA
	for _, ch := range sa.children {
		if ch.cfg.Name == name && ch.state == ChildInstalled {
			found = ch
		}
	}
	return found, found != nil
}

// weakIn lists the weak algorithms offered or chosen in a message's SA and KE payloads,
// and an identity that travels in clear.
func (sa *isakmpSA) weakIn(m *Message) []string {
	var weak []string
	seen := map[string]bool{}
	addWeak := func(w string) {
		if !seen[w] {
			seen[w] = true
			weak = append(weak, w)
		}
	}
	for _, p := range m.Payloads {
		switch p := p.(type) {
		case *SA:
			for _, prop := range p.Proposals {
				for _, tr := range prop.Transforms {
					var ip ike.Proposal
					if prop.Protocol == ProtoISAKMP {
						o, err := parsePhase1Transform(tr)
						if err != nil {
							continue
						}
						ip = o.proposal()
					} else if o, err := parseIPsecTransform(prop.Protocol, tr); err == nil {
						ip = o.proposal()
					}
					for _, w := range ip.Weak() {
						addWeak(w)
					}
				}
			}
		case *ID:
			if m.Exchange == ExchangeAggressive && !m.Encrypted() {
				addWeak("identity " + p.String() + " in clear text")
			}
		}
	}
	return weak
}

// lazyDissect defers Dissect until the trace is looked at; it keeps its own copy of
// the protection.
func lazyDissect(raw []byte, c *Crypto) func() *ike.Field {
	var keys *Crypto
	if c != nil {
		cp := *c
		keys = &cp
	}
	return func() *ike.Field { return Dissect(raw, keys) }
}

func payloadOf[T Payload](ps []Payload) T { return daemon.First[T](ps, nil) }

// firstHash returns the HASH payload that must open a protected quick mode,
// informational or transaction message, or nil.
func firstHash(m *Message) *Hash {
	if len(m.Payloads) == 0 {
		return nil
	}
	h, _ := m.Payloads[0].(*Hash)
	return h
}

func notifyOf(ps []Payload, t NotifyType) *Notify {
	return daemon.First(ps, func(n *Notify) bool { return n.Type == t })
}

func errorNotify(ps []Payload) *Notify {
	return daemon.First(ps, func(n *Notify) bool { return n.Type.IsError() })
}

func idsOf(ps []Payload) []*ID {
	var out []*ID
	for _, p := range ps {
		if id, ok := p.(*ID); ok {
			out = append(out, id)
		}
	}
	return out
}

func hasVendor(ps []Payload, id []byte) bool {
	return daemon.First(ps, func(v *VendorID) bool { return string(v.Data) == string(id) }) != nil
}
