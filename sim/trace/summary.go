package trace

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Summary is what a run comes to, counted from the typed fields of its events: what
// `ikesim run` prints for a scenario too large to draw, and what a program reads
// instead of the diagram. A Summarizer makes it as events are recorded, in one pass
// and in memory that grows with the nodes, connections and SAs, not the events.
type Summary struct {
	Nodes  int
	Groups []GroupCount // the groups of similar nodes, in the order of their first member
	Events int
	End    Seconds // the time of the last event
	// Conns are the connections, each a node's or a group's (its members' counted
	// together), by name.
	Conns []*ConnSummary
	// Exchanges are the messages the nodes made (forwarded ones are not counted
	// again), by protocol and exchange.
	Exchanges   []*ExchangeSummary
	Retransmits int
	// Drops counts the dropped datagrams by cause.
	Drops map[DropCause]int
	// PingsSent and PingsAnswered count echo requests and those answered.
	PingsSent, PingsAnswered int
	// Notifies counts the notify payloads of the IKE messages the nodes made, by type
	// (a COOKIE demanded under load, INVALID_KE_PAYLOAD, AUTHENTICATION_FAILED, ...).
	Notifies map[string]int
}

// GroupCount is a group of similar nodes and its size.
type GroupCount struct {
	Name    string
	Members int
}

// ConnSummary is one connection of a node, or of every member of a group.
type ConnSummary struct {
	// Name is node/connection, or group/connection for a group's members.
	Name  string
	Group string // the group, for a group's connection
	Nodes int    // the nodes that brought up or tried an SA of it
	// IKEUp and ChildUp count the SAs that came up (rekeyed ones too), IKEFailed and
	// ChildFailed the errors that ended an exchange of the connection.
	IKEUp, IKEFailed, ChildUp, ChildFailed int
	// Handshakes are the setup times of the IKE SAs this side initiated, from the first
	// request to the SA being up, on the virtual clock, sorted.
	Handshakes []time.Duration
	nodes      map[string]bool
}

// Percentile is the p-th percentile (0 < p <= 100) of the handshake times, by the
// nearest rank; 0 when there are none.
func (c *ConnSummary) Percentile(p float64) time.Duration {
	if len(c.Handshakes) == 0 {
		return 0
	}
	i := int(float64(len(c.Handshakes))*p/100+0.999999) - 1
	return c.Handshakes[min(max(i, 0), len(c.Handshakes)-1)]
}

// ExchangeSummary counts the messages of one exchange.
type ExchangeSummary struct {
	Proto    string // ikev2, ikev1, esp, ...
	Exchange string // IKE_SA_INIT, ...; "" for ESP and plain IP
	Messages int
	Bytes    int
	// Retransmits are the messages that were retransmissions.
	Retransmits int
}

// Summarizer counts a run's events into a Summary; Add each event once (Trace.Subscribe
// passes it every event as it is emitted).
type Summarizer struct {
	s       Summary
	group   map[string]string // node -> its group
	groups  map[string]int    // group -> index in s.Groups
	conns   map[string]*ConnSummary
	exch    map[[2]string]*ExchangeSummary
	started map[saKey]Seconds // first request of an IKE SA this node initiates
}

type saKey struct{ node, spi string }

// NewSummarizer makes an empty Summarizer.
func NewSummarizer() *Summarizer {
	return &Summarizer{group: map[string]string{}, groups: map[string]int{}, conns: map[string]*ConnSummary{},
		exch: map[[2]string]*ExchangeSummary{}, started: map[saKey]Seconds{}, s: Summary{Drops: map[DropCause]int{}, Notifies: map[string]int{}}}
}

// Summarize counts a whole trace.
func Summarize(events []*Event) *Summary {
	z := NewSummarizer()
	for _, e := range events {
		z.Add(e)
	}
	return z.Summary()
}

// Add counts one event.
func (z *Summarizer) Add(e *Event) {
	s := &z.s
	s.Events++
	s.End = max(s.End, e.T)
	switch e.Kind {
	case KindTopology:
		s.Nodes++
		if e.Topology != nil && e.Topology.Group != "" {
			g := e.Topology.Group
			z.group[e.Node] = g
			i, ok := z.groups[g]
			if !ok {
				i = len(s.Groups)
				z.groups[g] = i
				s.Groups = append(s.Groups, GroupCount{Name: g})
			}
			s.Groups[i].Members++
		}
	case KindMessage:
		if e.Forwarded() {
			return
		}
		k := [2]string{e.Proto(), e.Exchange()}
		x := z.exch[k]
		if x == nil {
			x = &ExchangeSummary{Proto: e.Proto(), Exchange: e.Exchange()}
			z.exch[k] = x
		}
		x.Messages++
		x.Bytes += len(e.Bytes())
		if e.Retransmit() {
			x.Retransmits++
			s.Retransmits++
		}
		for _, n := range e.Notifies() {
			s.Notifies[n]++
		}
		if (e.Proto() == "ikev2" || e.Proto() == "ikev1") && !e.Response() && e.SPIi() != "" {
			if _, seen := z.started[saKey{e.Node, e.SPIi()}]; !seen {
				z.started[saKey{e.Node, e.SPIi()}] = e.T
			}
		}
	case KindDrop:
		s.Drops[e.Cause()]++
	case KindSA:
		if e.Op != OpUp || e.SA == nil {
			return
		}
		c := z.conn(e.Node, e.SA.Conn)
		if e.SA.Type == ike.SATypeChild {
			c.ChildUp++
			return
		}
		c.IKEUp++
		if k := (saKey{e.Node, e.SA.SPIi}); e.SA.Initiator {
			if t, ok := z.started[k]; ok {
				c.Handshakes = append(c.Handshakes, time.Duration(e.T-t))
			}
		}
		delete(z.started, saKey{e.Node, e.SA.SPIi})
	case KindError:
		if e.Conn() == "" {
			return
		}
		c := z.conn(e.Node, e.Conn())
		if e.SAType() == ike.SATypeChild {
			c.ChildFailed++
		} else {
			c.IKEFailed++
		}
	case KindAction:
		if e.Ping == nil {
			return
		}
		switch e.Ping.Op {
		case PingRequest:
			s.PingsSent++
		case PingReply:
			s.PingsAnswered++
		}
	}
}

// conn is the summary of a node's connection (its group's, for a member).
func (z *Summarizer) conn(node, conn string) *ConnSummary {
	owner, group := node, z.group[node]
	if group != "" {
		owner = group
	}
	name := owner + "/" + conn
	c := z.conns[name]
	if c == nil {
		c = &ConnSummary{Name: name, Group: group, nodes: map[string]bool{}}
		z.conns[name] = c
	}
	if !c.nodes[node] {
		c.nodes[node] = true
		c.Nodes++
	}
	return c
}

// Summary returns the counts so far.
func (z *Summarizer) Summary() *Summary {
	s := z.s
	s.Drops, s.Notifies = maps.Clone(z.s.Drops), maps.Clone(z.s.Notifies)
	s.Groups = slices.Clone(z.s.Groups)
	s.Conns, s.Exchanges = nil, nil
	for _, c := range z.conns {
		cc := *c
		cc.nodes = nil
		cc.Handshakes = slices.Clone(c.Handshakes)
		slices.Sort(cc.Handshakes)
		s.Conns = append(s.Conns, &cc)
	}
	slices.SortFunc(s.Conns, func(a, b *ConnSummary) int { return cmp.Compare(a.Name, b.Name) })
	for _, x := range z.exch {
		xx := *x
		s.Exchanges = append(s.Exchanges, &xx)
	}
	slices.SortFunc(s.Exchanges, func(a, b *ExchangeSummary) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Exchange, b.Exchange))
	})
	return &s
}

// IKEUp is the number of IKE SAs that came up, over every connection.
func (s *Summary) IKEUp() int {
	n := 0
	for _, c := range s.Conns {
		n += c.IKEUp
	}
	return n
}

// Conn returns the summary of a connection by name (node/conn or group/conn), or nil.
func (s *Summary) Conn(name string) *ConnSummary {
	for _, c := range s.Conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// WriteText prints the summary as aligned tables.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d nodes", s.Nodes)
	for _, g := range s.Groups {
		fmt.Fprintf(&b, ", group %s: %d", g.Name, g.Members)
	}
	fmt.Fprintf(&b, "; %d events over %s of virtual time\n\n", s.Events, s.End)
	// Numbers align right, the names in the first column left: padded to one width.
	names, width := make([]string, len(s.Conns)), len("connection")
	for i, c := range s.Conns {
		names[i] = c.Name
		if c.Group != "" {
			names[i] += " (group)"
		}
		width = max(width, len(names[i]))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tnodes\tIKE SAs up\tfailed\tChild SAs up\tfailed\thandshake p50\tp90\tp99\tmax\t\n", width, "connection")
	for i, c := range s.Conns {
		name := fmt.Sprintf("%-*s", width, names[i])
		lat := "-\t-\t-\t-"
		if len(c.Handshakes) > 0 {
			lat = fmt.Sprintf("%s\t%s\t%s\t%s", ms(c.Percentile(50)), ms(c.Percentile(90)), ms(c.Percentile(99)), ms(c.Percentile(100)))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", name, c.Nodes, c.IKEUp, c.IKEFailed, c.ChildUp, c.ChildFailed, lat)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	width = len("messages of")
	for _, x := range s.Exchanges {
		width = max(width, len(x.Proto)+1+len(x.Exchange))
	}
	fmt.Fprintf(tw, "%-*s\tsent\tbytes\tretransmitted\t\n", width, "messages of")
	for _, x := range s.Exchanges {
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t\n", width, strings.TrimSpace(x.Proto+" "+x.Exchange), x.Messages, x.Bytes, x.Retransmits)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Notifies) > 0 {
		var ns []string
		for n, c := range s.Notifies {
			ns = append(ns, fmt.Sprintf("%s %d", n, c))
		}
		slices.Sort(ns)
		fmt.Fprintf(&b, "\nnotifies sent: %s\n", strings.Join(ns, ", "))
	}
	fmt.Fprintf(&b, "\npings: %d sent, %d answered\n", s.PingsSent, s.PingsAnswered)
	var drops []string
	total := 0
	for c, n := range s.Drops {
		drops = append(drops, fmt.Sprintf("%s %d", cmp.Or(string(c), "other"), n))
		total += n
	}
	slices.Sort(drops)
	if total == 0 {
		b.WriteString("dropped: none\n")
	} else {
		fmt.Fprintf(&b, "dropped: %d (%s)\n", total, strings.Join(drops, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms prints a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
