package scenarios

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/sim/trace"
)

// Grading reads the trace's typed fields only: message exchanges, notify types and
// payloads, SA records, failures with their connection and notify, ping records, drop
// causes, NAT detection, typed state changes. The text of an event is for people: it is
// quoted in what a result says it saw, and never decides a verdict.

// Result is the verdict on one expectation.
type Result struct {
	Says  string // the sentence the student reads
	Check string // what was checked, in short
	Pass  bool
	// Pending says that the run so far cannot decide the check: a later event could
	// still change its verdict (only when grading part of a run, GradeAt).
	Pending bool
	Seen    string // what the run showed
	// At is the seq of the event with which the check was first met (0: not met, or a
	// check that no single event meets, such as an absence).
	At     int
	Expect *Expect
}

// Grade checks every expectation of the scenario against the trace of a whole run.
func Grade(s *Scenario, tr *trace.Trace) []Result {
	return grade(s, tr.Events, true)
}

// GradeAt checks every expectation against the run as far as event upTo (a seq): a
// check that later events could still decide is Pending. At the last event it is Grade.
func GradeAt(s *Scenario, tr *trace.Trace, upTo int) []Result {
	ev := tr.Events // numbered 1, 2, 3, ...
	if upTo >= len(ev) {
		return grade(s, ev, true)
	}
	return grade(s, ev[:max(upTo, 0)], false)
}

// Passed reports whether every result passed.
func Passed(rs []Result) bool {
	for _, r := range rs {
		if !r.Pass || r.Pending {
			return false
		}
	}
	return true
}

func grade(s *Scenario, ev []*trace.Event, final bool) []Result {
	g := &grader{s: s, ev: ev, final: final, links: linksOf(ev)}
	out := make([]Result, len(s.File.Expect))
	byName := map[string]*Result{}
	for i := range s.File.Expect {
		e := &s.File.Expect[i]
		if e.Before != nil {
			continue
		}
		out[i] = g.one(e)
		if e.Name != "" {
			byName[e.Name] = &out[i]
		}
	}
	for i := range s.File.Expect {
		if e := &s.File.Expect[i]; e.Before != nil {
			out[i] = g.order(e, byName)
		}
	}
	return out
}

// grader grades the expectations of one scenario against a run's events.
type grader struct {
	s     *Scenario
	ev    []*trace.Event
	final bool
	links map[[2]string]*trace.Link // by the two node names, in topology order
}

// verdict sets a result from whether the check is met now and whether more events can
// change that: a check met by "at least" evidence stays met, an absence can still be
// broken, a count can still grow.
func (g *grader) verdict(r *Result, pass, settled bool) {
	r.Pass = pass
	r.Pending = !g.final && !settled
}

func (g *grader) one(e *Expect) Result {
	r := Result{Says: e.Says, Expect: e}
	switch {
	case e.IKESA != nil:
		g.ikeSA(&r, e.IKESA)
	case e.ChildSAs != nil:
		g.childSAs(&r, e.ChildSAs)
	case e.Pings != nil:
		g.pings(&r, e.Pings)
	case e.Message != nil:
		g.message(&r, e.Message)
	case e.State != nil:
		g.state(&r, e.State)
	case e.Dropped != nil:
		g.dropped(&r, e.Dropped)
	case e.NATDetected != nil:
		g.nat(&r, e.NATDetected)
	}
	return r
}

func (g *grader) ikeSA(r *Result, x *ExpectIKESA) {
	a, b := x.Between[0], x.Between[1]
	upA, upB := g.ikeUps(a, b), g.ikeUps(b, a)
	want := x.State
	if want == "" {
		want = "established"
	}
	r.Check = fmt.Sprintf("IKE SA %s ↔ %s %s", a, b, want)
	r.Seen = fmt.Sprintf("IKE SAs established: %s %d, %s %d", a, len(upA), b, len(upB))
	if want == "established" {
		pass := len(upA) > 0 && len(upB) > 0
		if pass {
			r.At = max(upA[0].Seq, upB[0].Seq)
		}
		settled := pass
		// Distinct IKE SAs between the two, by their SPIs, whichever end reported them.
		sas := map[string]*trace.Event{}
		var order []string
		for _, x := range append(append([]*trace.Event{}, upA...), upB...) {
			k := x.SA.SPIi + x.SA.SPIr
			if _, ok := sas[k]; !ok {
				order = append(order, k)
			}
			sas[k] = x
		}
		if x.Count != nil {
			r.Check += fmt.Sprintf(", %d of them", *x.Count)
			r.Seen += fmt.Sprintf("; %d distinct IKE SA(s)", len(sas))
			pass = pass && len(sas) == *x.Count
			settled = len(sas) > *x.Count
		}
		if x.Rekeyed != nil {
			rekeyed := 0
			for _, k := range order {
				if sas[k].SA.Rekeys != "" {
					rekeyed++
				}
			}
			if *x.Rekeyed {
				r.Check += ", rekeyed"
				pass = pass && rekeyed > 0
				settled = settled && rekeyed > 0
			} else {
				r.Check += ", never rekeyed"
				pass = pass && rekeyed == 0
				settled = rekeyed > 0
			}
			r.Seen += fmt.Sprintf("; %d rekey(s)", rekeyed)
		}
		g.verdict(r, pass, settled || (x.Count != nil && len(sas) > *x.Count))
		return
	}
	if x.Notify != "" {
		r.Check += " with " + x.Notify
	}
	errs := append(g.failures(a, g.s.connsTo(a, b)), g.failures(b, g.s.connsTo(b, a))...)
	var found *trace.Event
	for _, f := range errs { // the first match, or one that shows the values that did not verify
		if x.Notify == "" || sameNotify(f.Failure.Notify, x.Notify) {
			if found == nil {
				found = f
			}
			if f.Failure.Auth != nil {
				found = f
				break
			}
		}
	}
	if len(errs) > 0 {
		r.Seen += "; errors: " + errs[0].Node + ": " + errs[0].Text
	}
	if found != nil {
		r.At = found.Seq
		if a := found.Failure.Auth; a != nil {
			r.Seen += fmt.Sprintf("; %s received %s %x, computed %x (%s)", found.Node, a.Payload, []byte(a.Received), []byte(a.Computed), a.Method)
		}
	}
	up := len(upA) > 0 || len(upB) > 0
	g.verdict(r, !up && found != nil, up)
}

// ikeUps lists the IKE SAs that came up on node with a peer that has one of other's
// identities.
func (g *grader) ikeUps(node, other string) []*trace.Event {
	ids := g.s.localIDs(other)
	var out []*trace.Event
	for _, x := range g.ev {
		if x.Kind == trace.KindSA && x.Op == trace.OpUp && x.SA != nil && x.SA.Type == "ike" && x.Node == node && ids[x.SA.Peer] {
			out = append(out, x)
		}
	}
	return out
}

// failures lists node's error events that concern one of the connections.
func (g *grader) failures(node string, conns []string) []*trace.Event {
	var out []*trace.Event
	for _, x := range g.ev {
		if x.Kind == trace.KindError && x.Node == node && x.Failure != nil && x.Conn() != "" && slices.Contains(conns, x.Conn()) {
			out = append(out, x)
		}
	}
	return out
}

// sameNotify compares notify type names exactly, IKEv1's hyphens and IKEv2's
// underscores being one spelling (NO-PROPOSAL-CHOSEN, NO_PROPOSAL_CHOSEN).
func sameNotify(a, b string) bool {
	return strings.ReplaceAll(a, "-", "_") == strings.ReplaceAll(b, "-", "_")
}

func (g *grader) childSAs(r *Result, x *ExpectChildSAs) {
	want := 0
	if x.Count != nil {
		want = *x.Count
	}
	var ups []*trace.Event
	down := map[string]bool{} // inbound SPIs of Child SAs that went down
	for _, e := range g.ev {
		if e.Kind != trace.KindSA || e.SA == nil || e.SA.Type != "child" || e.Node != x.Node || (x.Child != "" && e.SA.Child != x.Child) {
			continue
		}
		if e.Op == trace.OpUp {
			ups = append(ups, e)
		} else {
			down[e.SA.SPIIn] = true
		}
	}
	what := "Child SA(s)"
	if x.Child != "" {
		what = "Child SA(s) " + x.Child
	}
	if !x.Alive {
		r.Check = fmt.Sprintf("%d %s on %s", want, what, x.Node)
		r.Seen = fmt.Sprintf("%d %s came up on %s", len(ups), what, x.Node)
		if len(ups) >= want && want > 0 {
			r.At = ups[want-1].Seq
		}
		g.verdict(r, len(ups) == want, len(ups) > want)
		return
	}
	alive := 0
	for _, e := range ups {
		if !down[e.SA.SPIIn] {
			alive++
		}
	}
	r.Check = fmt.Sprintf("%d %s on %s still up at the end", want, what, x.Node)
	r.Seen = fmt.Sprintf("%d came up, %d still up", len(ups), alive)
	g.verdict(r, alive == want, false)
}

func (g *grader) pings(r *Result, x *ExpectPings) {
	to := g.s.addrsOf(x.To)
	planned := map[uint16]int{} // ping ID -> how many echo requests it sends
	answered := 0
	for _, e := range g.ev {
		p := e.Ping
		if e.Node != x.From || p == nil || (x.To != "" && !to[p.Dst]) {
			continue
		}
		planned[p.ID] = p.Count
		if p.Op == trace.PingReply {
			answered++
			if answered == x.Answered {
				r.At = e.Seq
			}
		}
	}
	sent := 0
	for _, n := range planned {
		sent += n
	}
	of := x.Of
	if of == 0 {
		of = sent
	}
	dst := ""
	if x.To != "" {
		dst = " to " + x.To
	}
	r.Check = fmt.Sprintf("%d of %d pings from %s%s answered", x.Answered, of, x.From, dst)
	r.Seen = fmt.Sprintf("%d of %d answered", answered, sent)
	g.verdict(r, answered == x.Answered && sent == of, false)
}

// addrsOf are the addresses of a node, or the address itself ("" gives none).
func (s *Scenario) addrsOf(nodeOrAddr string) map[string]bool {
	out := map[string]bool{}
	if a, err := netip.ParseAddr(nodeOrAddr); err == nil {
		out[a.String()] = true
		return out
	}
	if n := s.File.Node(nodeOrAddr); n != nil {
		for _, p := range n.Prefixes() {
			out[p.Addr().String()] = true
		}
	}
	return out
}

func (g *grader) message(r *Result, m *ExpectMessage) {
	var match []*trace.Event
	for _, x := range g.ev {
		if x.Kind == trace.KindMessage && m.matches(x) {
			match = append(match, x)
		}
	}
	n := len(match)
	what := m.describe()
	r.Seen = fmt.Sprintf("%d such message(s)", n)
	switch {
	case m.Absent || (m.Count != nil && *m.Count == 0):
		r.Check = "no " + what + " message"
		g.verdict(r, n == 0, n > 0)
	case m.Exactly != nil:
		r.Check = fmt.Sprintf("exactly %d %s message(s)", *m.Exactly, what)
		if n >= *m.Exactly && *m.Exactly > 0 {
			r.At = match[*m.Exactly-1].Seq
		}
		g.verdict(r, n == *m.Exactly, n > *m.Exactly)
	default:
		least := 1
		if m.Count != nil {
			least = *m.Count
		}
		if m.AtMost != nil && m.Count == nil {
			least = 0
		}
		switch {
		case m.AtMost != nil && least > 0:
			r.Check = fmt.Sprintf("%d to %d %s message(s)", least, *m.AtMost, what)
		case m.AtMost != nil:
			r.Check = fmt.Sprintf("at most %d %s message(s)", *m.AtMost, what)
		default:
			r.Check = fmt.Sprintf("at least %d %s message(s)", least, what)
		}
		if n >= least && least > 0 {
			r.At = match[least-1].Seq
		}
		pass := n >= least && (m.AtMost == nil || n <= *m.AtMost)
		settled := (m.AtMost == nil && n >= least) || (m.AtMost != nil && n > *m.AtMost)
		g.verdict(r, pass, settled)
	}
}

// matches reports whether a message event has everything m asks for.
func (m *ExpectMessage) matches(x *trace.Event) bool {
	switch {
	case m.Exchange != "" && x.Exchange() != m.Exchange,
		m.Proto != "" && x.Proto() != m.Proto,
		m.From != "" && (x.From() != m.From || x.Forwarded()),
		m.Notify != "" && !slices.ContainsFunc(x.Notifies(), func(n string) bool { return sameNotify(n, m.Notify) }),
		m.Purpose != "" && x.Purpose() != m.Purpose,
		m.Encap != nil && x.Encap() != *m.Encap,
		m.SPI != "" && !hasSPI(x, m.SPI),
		m.After > 0 && x.T.Duration() < m.After.D(),
		m.Until > 0 && x.T.Duration() > m.Until.D():
		return false
	}
	for _, p := range m.Payloads {
		if !slices.Contains(x.Payloads(), p) {
			return false
		}
	}
	return true
}

// hasSPI reports whether a message is ESP with that SPI or IKE of an SA with it.
func hasSPI(x *trace.Event, spi string) bool {
	spi = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(spi, "0x"), "0X"))
	return spi != "" && (x.SPI() == spi || x.SPIi() == spi || x.SPIr() == spi)
}

// describe says which messages m matches, for the check's line.
func (m *ExpectMessage) describe() string {
	parts := []string{m.Proto, m.Exchange, notifyText(m.Notify), m.Purpose}
	if len(m.Payloads) > 0 {
		parts = append(parts, "with "+strings.Join(m.Payloads, ", "))
	}
	if m.Encap != nil {
		if *m.Encap {
			parts = append(parts, "UDP-encapsulated")
		} else {
			parts = append(parts, "not UDP-encapsulated")
		}
	}
	if m.SPI != "" {
		parts = append(parts, "SPI "+m.SPI)
	}
	what := strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
	if m.From != "" {
		what += " from " + m.From
	}
	if m.After > 0 {
		what += fmt.Sprintf(" after %s", m.After.D())
	}
	if m.Until > 0 {
		what += fmt.Sprintf(" until %s", m.Until.D())
	}
	return what
}

func notifyText(n string) string {
	if n == "" {
		return ""
	}
	return "N(" + n + ")"
}

func (g *grader) state(r *Result, x *ExpectState) {
	r.Check = fmt.Sprintf("%s reaches state %s", x.Node, x.State)
	if x.Connection != "" {
		r.Check += " on connection " + x.Connection
	}
	if x.SA != "" {
		r.Check += " of a" + map[string]string{"ike": "n IKE SA", "child": " Child SA"}[x.SA]
	}
	var last string
	for _, e := range g.ev {
		if e.Kind != trace.KindState || e.Node != x.Node || (x.Connection != "" && e.Conn() != x.Connection) ||
			(x.SA != "" && string(e.SAType()) != x.SA) {
			continue
		}
		last = e.Machine() + " → " + e.ToState()
		if strings.EqualFold(e.ToState(), x.State) && r.At == 0 {
			r.At = e.Seq
		}
	}
	r.Seen = "last state change: " + last
	if last == "" {
		r.Seen = "no state changes"
	}
	g.verdict(r, r.At != 0, r.At != 0)
}

func (g *grader) dropped(r *Result, x *ExpectDropped) {
	what := fmt.Sprintf("%q", x.Reason)
	if x.Cause != "" {
		what = "cause " + x.Cause
		if x.Reason != "" {
			what += fmt.Sprintf(", %q", x.Reason)
		}
	}
	n := 0
	var first string
	for _, e := range g.ev {
		if e.Kind != trace.KindDrop || (x.Node != "" && e.Node != x.Node) {
			continue
		}
		if first == "" {
			first = e.Text
		}
		if (x.Cause == "" || string(e.Cause()) == x.Cause) &&
			(x.Reason == "" || strings.Contains(strings.ToLower(g.dropDescription(e)), strings.ToLower(x.Reason))) {
			if n++; n == 1 {
				r.At = e.Seq
			}
		}
	}
	r.Seen = fmt.Sprintf("%d matching drop(s)", n)
	if n == 0 && first != "" {
		r.Seen += "; first drop: " + first
	}
	if x.Absent {
		r.Check = "no packet dropped for " + what
		r.At = 0
		g.verdict(r, n == 0, n > 0)
		return
	}
	r.Check = "a packet dropped for " + what
	g.verdict(r, n > 0, n > 0)
}

// dropDescription describes a drop from its typed fields, in the words of the drop
// reasons lab files have matched since before drops had a cause ("30% loss", "is down",
// "fault rule", "outside the Child SA's selectors").
func (g *grader) dropDescription(e *trace.Event) string {
	link := e.From() + "—" + e.To()
	switch e.Cause() {
	case trace.DropLoss:
		loss := 0.0
		if l := g.links[[2]string{e.From(), e.To()}]; l != nil {
			loss = l.Loss
		} else if l := g.links[[2]string{e.To(), e.From()}]; l != nil {
			loss = l.Loss
		}
		return fmt.Sprintf("lost on link %s (%.0f%% loss)", link, loss*100)
	case trace.DropLinkDown:
		return "link " + link + " is down"
	case trace.DropNodeDown:
		return "node is down"
	case trace.DropFault:
		return "dropped by fault rule"
	case trace.DropMTU:
		return "exceeds the link MTU"
	case trace.DropSelectors:
		return "queued packet is outside the Child SA's selectors"
	case trace.DropNoSA:
		return "no IPsec SA"
	case trace.DropQueueFull:
		return "acquire queue full while waiting for the IPsec SA"
	case trace.DropNoRoute:
		return "no route"
	case trace.DropTTL:
		return "TTL expired"
	case trace.DropPolicy:
		return "discarded by policy"
	case trace.DropESP:
		return ipsecDropDescription(e.IPsec())
	case trace.DropNAT:
		return "NAT"
	}
	return string(e.Cause())
}

// linksOf reads the links of the network from the topology events.
func linksOf(ev []*trace.Event) map[[2]string]*trace.Link {
	out := map[[2]string]*trace.Link{}
	for _, e := range ev {
		if e.Kind != trace.KindTopology || e.Topology == nil {
			continue
		}
		for _, i := range e.Topology.Ifaces {
			if i.Link != nil {
				out[[2]string{e.Node, i.Peer}] = i.Link
			}
		}
	}
	return out
}

func (g *grader) nat(r *Result, x *ExpectNAT) {
	r.Check = "NAT detection on " + x.Node + " finds a NAT"
	r.Seen = "no NAT found"
	for _, e := range g.ev {
		if e.Node == x.Node && e.NAT != nil && (e.NAT.Local || e.NAT.Remote) {
			r.At = e.Seq
			switch {
			case e.NAT.Local && e.NAT.Remote:
				r.Seen = "both sides behind a NAT"
			case e.NAT.Local:
				r.Seen = x.Node + " is behind a NAT"
			default:
				r.Seen = "its peer is behind a NAT"
			}
			break
		}
	}
	g.verdict(r, r.At != 0, r.At != 0)
}

// order grades before: the named expectations were first met in the order given.
func (g *grader) order(e *Expect, byName map[string]*Result) Result {
	r := Result{Says: e.Says, Expect: e, Check: strings.Join(e.Before, " before ")}
	var seen []string
	pass, settled := true, true
	prev := 0
	for _, name := range e.Before {
		o := byName[name]
		switch {
		case o == nil || o.At == 0:
			seen = append(seen, name+" not met")
			pass, settled = false, false
		default:
			seen = append(seen, fmt.Sprintf("%s at event %d", name, o.At))
			if o.At <= prev {
				pass = false
			}
			prev = o.At
		}
	}
	r.Seen = strings.Join(seen, ", ")
	g.verdict(&r, pass, settled || !pass && prev > 0)
	return r
}

// localIDs are the identities node uses in its connections.
func (s *Scenario) localIDs(node string) map[string]bool {
	ids := map[string]bool{}
	for _, c := range s.File.Connections[node] {
		if c != nil {
			ids[c.Local.ID] = true
		}
	}
	return ids
}

// connsTo names a's connections toward b: those whose remote identity is one of b's, or
// whose remote address is one of b's addresses.
func (s *Scenario) connsTo(a, b string) []string {
	ids := s.localIDs(b)
	addrs := s.addrsOf(b)
	var out []string
	for _, name := range sortedKeys(s.File.Connections[a]) {
		c := s.File.Connections[a][name]
		if c == nil {
			continue
		}
		match := ids[c.Remote.ID]
		for _, r := range c.RemoteAddrs {
			match = match || addrs[r]
		}
		if match {
			out = append(out, name)
		}
	}
	return out
}

// FormatResults prints one line per expectation and a total.
func FormatResults(rs []Result) string {
	var b strings.Builder
	pass := 0
	for _, r := range rs {
		v := "FAIL"
		switch {
		case r.Pending:
			v = "PEND"
		case r.Pass:
			v = "PASS"
			pass++
		}
		fmt.Fprintf(&b, "%s  %s — %s (seen: %s)\n", v, r.Says, r.Check, r.Seen)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", pass, len(rs)-pass)
	return b.String()
}

// ipsecDropDescription describes what ESP or AH refused from the drop's facts: "ESP",
// or "AH: ICV mismatch, an outer address under the ICV was rewritten (NAT)".
func ipsecDropDescription(d *trace.IPsecDrop) string {
	if d == nil {
		return "ESP"
	}
	s := strings.ToUpper(d.Proto) + ": " + d.Reason
	if d.AddressChanged {
		s += ", an outer address under the ICV was rewritten (NAT)"
	}
	return s
}
