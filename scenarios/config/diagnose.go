package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/sim/trace"
)

// Why an imported pair does not come up, in the words of its configurations: each
// finding names the option and the line on each side. Check compares a pair's
// configurations with the engines' own rules (the proposal selection of RFC 7296,
// Section 2.7, the selectors a responder accepts); Diagnose keeps the findings that
// explain the expectations a run failed.

// Stage is where in the setup a pair fails.
type Stage string

const (
	StageIKE   = Stage(ike.SATypeIKE)   // the IKE SA (ISAKMP SA)
	StageChild = Stage(ike.SATypeChild) // a Child SA (IPsec SA)
)

// Finding is one disagreement between the configurations of a pair.
type Finding struct {
	A, B       string // the nodes
	ConnA      string
	ConnB      string
	Stage      Stage
	Option     string // the option that disagrees: version, aggressive, proposals, auth, id, secret, esp_proposals, local_ts, mode
	PosA, PosB Pos    // where each side sets it
	// Reason is the disagreement in short: "no common DH group".
	Reason string
	// Text is the whole sentence for people.
	Text string
}

func (f Finding) String() string { return f.Text }

// Check compares the configurations of every pair and returns what keeps them apart.
func Check(r *Result) []Finding {
	sc, err := r.Scenario()
	if err != nil {
		return nil
	}
	var out []Finding
	for _, p := range r.Pairs {
		out = append(out, checkPair(sc, p)...)
	}
	return out
}

// Diagnose explains why a pair of a run of an imported scenario did not come up: for
// each pair whose IKE SA or whose traffic failed (a failed expectation, or an error in
// the trace tr of a kind of SA the pair never brought up, as when a fragment's timeline
// replaced the expectations), the findings of that stage, or one that says the
// configurations agree and the trace's errors tell the rest.
func Diagnose(r *Result, results []scenarios.Result, tr *trace.Trace) []Finding {
	sc, err := r.Scenario()
	if err != nil {
		return nil
	}
	var out []Finding
	for _, p := range r.Pairs {
		ikeFailed, childFailed := false, false
		for _, res := range results {
			if res.Pass || res.Expect == nil {
				continue
			}
			e := res.Expect
			switch {
			case e.IKESA != nil && len(e.IKESA.Between) == 2 && (e.IKESA.State == "" || e.IKESA.State == "established") &&
				sameNodes(e.IKESA.Between, p.A.Name, p.B.Name):
				ikeFailed = true
			case e.Pings != nil && slices.Contains(r.pingers[e.Pings.From], pairKey(p)):
				childFailed = true
			case e.Message != nil && e.Message.Proto == "esp" && e.Message.From == p.A.Name && slices.Contains(r.espFrom, pairKey(p)):
				childFailed = true
			case e.ChildSAs != nil && (e.ChildSAs.Node == p.A.Name || e.ChildSAs.Node == p.B.Name):
				childFailed = true
			}
		}
		ikeFailed = ikeFailed || failedInTrace(tr, p, ike.SATypeIKE)
		childFailed = childFailed || failedInTrace(tr, p, ike.SATypeChild)
		if !ikeFailed && !childFailed {
			continue
		}
		stage := StageChild
		if ikeFailed {
			stage = StageIKE
		}
		var found []Finding
		for _, f := range checkPair(sc, p) {
			if f.Stage == stage {
				found = append(found, f)
			}
		}
		if len(found) == 0 {
			what := "the IKE SA"
			agree := "version, mode, proposals, authentication, identities and keys"
			if stage == StageChild {
				what, agree = "the traffic", "ESP proposals, traffic selectors and mode"
			}
			found = append(found, Finding{A: p.A.Name, B: p.B.Name, ConnA: p.ConnA, ConnB: p.ConnB, Stage: stage,
				PosA: p.A.At(p.ConnA), PosB: p.B.At(p.ConnB),
				Reason: "the configurations agree",
				Text: fmt.Sprintf("%s between %s and %s failed although their configurations (%s, %s) agree on %s: the errors in the trace say why",
					what, p.A.Name, p.B.Name, p.A.At(p.ConnA), p.B.At(p.ConnB), agree)})
		}
		out = append(out, found...)
	}
	return out
}

// failedInTrace reports whether an exchange of the pair's connections for an SA of type
// typ failed (an error event of either side) while no such SA of the initiator's
// connection came up: a failure that a later try did not mend.
func failedInTrace(tr *trace.Trace, p Pair, typ ike.SAType) bool {
	if tr == nil {
		return false
	}
	failed := false
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.KindError && e.SAType() == typ &&
			(e.Node == p.A.Name && e.Conn() == p.ConnA || e.Node == p.B.Name && e.Conn() == p.ConnB):
			failed = true
		case e.Kind == trace.KindSA && e.Op == trace.OpUp && e.SA != nil && e.SA.Type == typ && e.Node == p.A.Name && e.SA.Conn == p.ConnA:
			return false
		}
	}
	return failed
}

func sameNodes(between []string, a, b string) bool {
	return between[0] == a && between[1] == b || between[0] == b && between[1] == a
}

func pairKey(p Pair) string { return p.A.Name + "/" + p.ConnA }

// Record writes the findings into a run's trace, as the scenario's last events: info
// events with the facts in their diagnosis and the sentence in their text.
func Record(run *scenarios.Run, findings []Finding) {
	for _, f := range findings {
		run.Sim.Trace.Emit(&trace.Event{T: trace.Seconds(run.Sim.Now()), Kind: trace.KindInfo, Node: trace.ScenarioNode,
			Text: "diagnosis: " + f.Text, Diagnosis: f.Trace()})
	}
}

// Trace is the finding as the trace holds it.
func (f Finding) Trace() *trace.Diagnosis {
	return &trace.Diagnosis{Stage: ike.SAType(f.Stage), Option: f.Option, Reason: f.Reason, Sides: []trace.ConfRef{
		{Node: f.A, Conn: f.ConnA, File: f.PosA.File, Line: f.PosA.Line},
		{Node: f.B, Conn: f.ConnB, File: f.PosB.File, Line: f.PosB.Line},
	}}
}

// side is one end of a pair as the engine gets it, with where its options are written.
type side struct {
	n    *Node
	name string
	spec *scenarios.ConnSpec
	conn *ike.Connection
}

func (s side) at(field string) Pos { return s.n.At(s.name + "." + field) }

func connOf(sc *scenarios.Scenario, n *Node, name string) *ike.Connection {
	conns, err := sc.NodeConnections(n.Name)
	if err != nil {
		return nil
	}
	for _, c := range conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// checkPair compares the two connections of a pair, initiator (a) first.
func checkPair(sc *scenarios.Scenario, p Pair) []Finding {
	a := side{p.A, p.ConnA, p.A.Conns[p.ConnA], connOf(sc, p.A, p.ConnA)}
	b := side{p.B, p.ConnB, p.B.Conns[p.ConnB], connOf(sc, p.B, p.ConnB)}
	if a.conn == nil || b.conn == nil {
		return nil
	}
	var out []Finding
	add := func(stage Stage, option, fieldA, fieldB, reason, text string) {
		out = append(out, Finding{A: a.n.Name, B: b.n.Name, ConnA: a.name, ConnB: b.name, Stage: stage, Option: option,
			PosA: a.at(fieldA), PosB: b.at(fieldB), Reason: reason, Text: text})
	}
	ac, bc := a.conn, b.conn
	if ac.Version != bc.Version {
		add(StageIKE, "version", "version", "version", "different IKE versions",
			fmt.Sprintf("%s's connection %s speaks IKEv%d (%s) and %s's %s IKEv%d (%s): they never meet",
				a.n.Name, a.name, ac.Version, a.at("version"), b.n.Name, b.name, bc.Version, b.at("version")))
		return out
	}
	if ac.Version == 1 && ac.Aggressive != bc.Aggressive {
		add(StageIKE, "aggressive", "aggressive", "aggressive", "main mode and aggressive mode",
			fmt.Sprintf("%s's connection %s uses %s (%s) and %s's %s %s (%s)", a.n.Name, a.name, modeName(ac.Aggressive), a.at("aggressive"),
				b.n.Name, b.name, modeName(bc.Aggressive), b.at("aggressive")))
	}
	offered := ac.Proposals
	if ac.Version == 1 && ac.Aggressive && len(offered) > 0 {
		offered = firstGroupOnly(offered)
	}
	if _, _, ok := ike.SelectProposal(offered, bc.Proposals); !ok {
		reason := noCommon(offered, bc.Proposals)
		add(StageIKE, "proposals", "proposals", "proposals", reason,
			fmt.Sprintf("%s's proposals (%s, %s) share no proposal with %s's (%s, %s): %s",
				b.n.Name, proposalList(bc.Proposals), b.at("proposals"), a.n.Name, proposalList(offered), a.at("proposals"), reason))
	}
	for _, x := range []struct {
		from, to side
		fa, fb   ike.AuthConfig
	}{{a, b, ac.Local, bc.Remote}, {b, a, bc.Local, ac.Remote}} {
		local, remote := x.from.spec.Local, x.to.spec.Remote
		if methodOf(local.Auth) != methodOf(remote.Auth) {
			add(StageIKE, "auth", "local.auth", "remote.auth", "different authentication methods",
				fmt.Sprintf("%s authenticates with %s (%s) but %s expects %s (%s)", x.from.n.Name, methodOf(local.Auth), x.from.at("local.auth"),
					x.to.n.Name, methodOf(remote.Auth), x.to.at("remote.auth")))
		}
		if x.fb.ID.Value != nil && !x.fa.ID.Equal(x.fb.ID) {
			f := Finding{A: a.n.Name, B: b.n.Name, ConnA: a.name, ConnB: b.name, Stage: StageIKE, Option: "id",
				PosA: x.from.at("local.id"), PosB: x.to.at("remote.id"), Reason: "identities differ",
				Text: fmt.Sprintf("%s expects %s's identity %s (remote id, %s), but %s is %s (local id, %s)",
					x.to.n.Name, x.from.n.Name, x.fb.ID, x.to.at("remote.id"), x.from.n.Name, x.fa.ID, x.from.at("local.id"))}
			if x.from.n != a.n {
				f.PosA, f.PosB = f.PosB, f.PosA
			}
			out = append(out, f)
		}
	}
	if ac.Local.Method == ike.AuthPSK && bc.Remote.Method == ike.AuthPSK && ac.Local.PSK != nil && bc.Local.PSK != nil && !bytes.Equal(ac.Local.PSK, bc.Local.PSK) {
		pa, pb := secretPos(a), secretPos(b)
		out = append(out, Finding{A: a.n.Name, B: b.n.Name, ConnA: a.name, ConnB: b.name, Stage: StageIKE, Option: "secret",
			PosA: pa, PosB: pb, Reason: "the pre-shared keys differ",
			Text: fmt.Sprintf("the pre-shared keys differ: %s's secret (%s) is not %s's (%s)", a.n.Name, pa, b.n.Name, pb)})
	}
	checkChildren(a, b, add)
	return out
}

func checkChildren(a, b side, add func(stage Stage, option, fieldA, fieldB, reason, text string)) {
	ac, bc := a.conn, b.conn
	for _, ch := range ac.Children {
		other := matchChild(ch, bc.Children)
		ka, kb := "children."+ch.Name, ""
		if other == nil {
			add(StageChild, "children", ka, "children", "no child to answer",
				fmt.Sprintf("%s's connection %s has no child for %s's child %s (%s)", b.n.Name, b.name, a.n.Name, ch.Name, a.at(ka)))
			continue
		}
		kb = "children." + other.Name
		offered, local := ch.ESPProposals, other.ESPProposals
		if ac.Version == 2 {
			offered, local = withoutDH(offered), withoutDH(local) // no KE in IKE_AUTH: PFS starts with the first rekey
		}
		if _, _, ok := ike.SelectProposal(offered, local); !ok {
			reason := noCommon(offered, local)
			add(StageChild, "esp_proposals", ka+".esp_proposals", kb+".esp_proposals", reason,
				fmt.Sprintf("%s's esp_proposals (%s, %s) share no proposal with %s's (%s, %s): %s",
					b.n.Name, proposalList(other.ESPProposals), b.at(kb+".esp_proposals"), a.n.Name, proposalList(ch.ESPProposals), a.at(ka+".esp_proposals"), reason))
		}
		for _, x := range []struct {
			mine, theirs         []ike.TrafficSelector
			mineKey, theirsKey   string
			mineAddr, theirsAddr netip.Addr
		}{
			{ch.LocalTS, other.RemoteTS, ".local_ts", ".remote_ts", firstAddr(ac.LocalAddrs), firstAddr(bc.RemoteAddrs)},
			{ch.RemoteTS, other.LocalTS, ".remote_ts", ".local_ts", firstAddr(ac.RemoteAddrs), firstAddr(bc.LocalAddrs)},
		} {
			mine, theirs := orHost(x.mine, x.mineAddr, ac.RequestVIP), orHost(x.theirs, x.theirsAddr, bc.RequestVIP)
			if mine == nil || theirs == nil {
				continue // a virtual IP: known only when it is assigned
			}
			if ac.Version == 1 && !within(mine, theirs) || ac.Version == 2 && !overlap(mine, theirs) {
				rule := "none of them overlaps"
				if ac.Version == 1 {
					rule = "IKEv1's responder accepts only selectors within its own"
				}
				add(StageChild, strings.TrimPrefix(x.mineKey, "."), ka+x.mineKey, kb+x.theirsKey, "traffic selectors do not match",
					fmt.Sprintf("%s's %s of child %s (%s, %s) and %s's %s of child %s (%s, %s) do not match: %s",
						a.n.Name, strings.TrimPrefix(x.mineKey, "."), ch.Name, tsList(mine), a.at(ka+x.mineKey),
						b.n.Name, strings.TrimPrefix(x.theirsKey, "."), other.Name, tsList(theirs), b.at(kb+x.theirsKey), rule))
			}
		}
		if ch.Transport != other.Transport {
			add(StageChild, "mode", ka+".mode", kb+".mode", "tunnel and transport mode",
				fmt.Sprintf("%s's child %s uses %s mode (%s) and %s's %s %s mode (%s)", a.n.Name, ch.Name, modeOf(ch.Transport), a.at(ka+".mode"),
					b.n.Name, other.Name, modeOf(other.Transport), b.at(kb+".mode")))
		}
	}
}

func modeName(aggressive bool) string {
	if aggressive {
		return "aggressive mode"
	}
	return "main mode"
}

func modeOf(transport bool) string {
	if transport {
		return "transport"
	}
	return "tunnel"
}

func methodOf(auth string) string {
	switch auth {
	case "", "psk":
		return "psk"
	case "rsa/pss":
		return "pubkey"
	}
	return auth
}

// secretPos is where the secret a side uses is written (bindSecrets gave it one that
// names its two identities).
func secretPos(s side) Pos {
	for i, sec := range s.n.Secrets {
		if (sec.Type == "" || sec.Type == "ike") && slices.Equal(sec.IDs, []string{s.spec.Local.ID, s.spec.Remote.ID}) {
			return s.n.At(fmt.Sprintf("secret.%d", i))
		}
	}
	return s.n.At(s.name)
}

// matchChild finds the responder's child for an initiator's: the same name, else the
// first whose selectors overlap the initiator's, else the only one.
func matchChild(ch *ike.ChildConfig, children []*ike.ChildConfig) *ike.ChildConfig {
	for _, o := range children {
		if o.Name == ch.Name {
			return o
		}
	}
	for _, o := range children {
		if overlap(ch.LocalTS, o.RemoteTS) && overlap(ch.RemoteTS, o.LocalTS) {
			return o
		}
	}
	if len(children) == 1 {
		return children[0]
	}
	return nil
}

func firstAddr(as []netip.Addr) netip.Addr {
	if len(as) > 0 {
		return as[0]
	}
	return netip.Addr{}
}

// orHost is a child's selectors, or for dynamic (none) the side's address; nil when
// the side asks for a virtual IP.
func orHost(ts []ike.TrafficSelector, host netip.Addr, vip bool) []ike.TrafficSelector {
	if len(ts) > 0 {
		return ts
	}
	if vip || !host.IsValid() {
		return nil
	}
	return []ike.TrafficSelector{ike.TSFromPrefix(netip.PrefixFrom(host, 32))}
}

func overlap(a, b []ike.TrafficSelector) bool {
	for _, x := range a {
		for _, y := range b {
			if _, ok := x.Narrow(y); ok {
				return true
			}
		}
	}
	return false
}

// within reports whether every selector of a lies inside one of b.
func within(a, b []ike.TrafficSelector) bool {
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y ike.TrafficSelector) bool {
			n, ok := x.Narrow(y)
			return ok && n == x
		}) {
			return false
		}
	}
	return true
}

func tsList(ts []ike.TrafficSelector) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}

func proposalList(ps []ike.Proposal) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func withoutDH(ps []ike.Proposal) []ike.Proposal {
	out := make([]ike.Proposal, len(ps))
	for i, p := range ps {
		out[i] = ike.Proposal{Protocol: p.Protocol}
		for _, t := range p.Transforms {
			if t.Type != ike.TransformDH {
				out[i].Transforms = append(out[i].Transforms, t)
			}
		}
	}
	return out
}

// firstGroupOnly is what aggressive mode offers: the first proposal's first group only
// (its KE payload is in the first message).
func firstGroupOnly(ps []ike.Proposal) []ike.Proposal {
	var group ike.Transform
	for _, t := range ps[0].Transforms {
		if t.Type == ike.TransformDH {
			group = t
			break
		}
	}
	out := make([]ike.Proposal, len(ps))
	for i, p := range ps {
		out[i] = ike.Proposal{Protocol: p.Protocol}
		for _, t := range p.Transforms {
			if t.Type != ike.TransformDH || t == group {
				out[i].Transforms = append(out[i].Transforms, t)
			}
		}
	}
	return out
}

// transformKinds name the transform types in the diagnosis.
var transformKinds = []struct {
	t    ike.TransformType
	name string
}{{ike.TransformENCR, "encryption algorithm"}, {ike.TransformINTEG, "integrity algorithm"}, {ike.TransformPRF, "PRF"},
	{ike.TransformDH, "DH group"}, {ike.TransformESN, "ESN setting"}}

// noCommon says which transform types the two lists of proposals share nothing of, or
// that every type is shared but never in one proposal.
func noCommon(a, b []ike.Proposal) string {
	var missing []string
	for _, k := range transformKinds {
		as, bs := transformsOf(a, k.t), transformsOf(b, k.t)
		if len(as) == 0 && len(bs) == 0 {
			continue
		}
		if k.t == ike.TransformINTEG && (len(as) == 0 || len(bs) == 0) {
			continue // AEAD on one side: told by the encryption algorithm
		}
		if !slices.ContainsFunc(as, func(t ike.Transform) bool { return slices.Contains(bs, t) }) {
			missing = append(missing, "no common "+k.name)
		}
	}
	if len(missing) == 0 {
		return "each algorithm is offered on both sides, but never all in one proposal"
	}
	return strings.Join(missing, ", ")
}

func transformsOf(ps []ike.Proposal, typ ike.TransformType) []ike.Transform {
	var out []ike.Transform
	for _, p := range ps {
		for _, t := range p.Transforms {
			if t.Type == typ && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}
