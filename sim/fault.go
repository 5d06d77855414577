package sim

import (
	"fmt"
	"time"

	"github.com/ikesim/ikesim/sim/trace"
)

// Fault is a rule applied to messages as they are put on the wire: drop, duplicate,
// delay or corrupt the Nth message that matches (or every match, when Nth is 0), a
// limited number of times.
type Fault struct {
	Action   string        // "drop", "duplicate", "delay", "corrupt"
	Delay    time.Duration // for "delay"
	Proto    string        // "" any, "ikev2", "esp", ...
	Exchange string        // "" any, "IKE_AUTH", ...
	Response *bool         // nil any; true responses only; false requests only
	From     string        // sending node ("" any)
	Nth      int           // 1-based index among the messages that match; 0 = every one
	Times    int           // how many times the rule fires at most; 0 = no limit
	seen     int
	fired    int
}

// Describe says what the rule does, for the trace.
func (f *Fault) Describe() string {
	what := f.Exchange
	if what == "" {
		what = f.Proto
	}
	if what == "" {
		what = "any"
	}
	if f.Response != nil {
		if *f.Response {
			what += " response"
		} else {
			what += " request"
		}
	}
	s := fmt.Sprintf("%s %s message", f.Action, what)
	if f.Nth > 0 {
		s = fmt.Sprintf("%s %d of %s", f.Action, f.Nth, what)
	}
	if f.From != "" {
		s += " from " + f.From
	}
	return s
}

type verdict struct {
	drop, duplicate, corrupt bool
	delay                    time.Duration
	rule                     string
}

func (f *Fault) matches(e *trace.Event) bool {
	if f.Proto != "" && f.Proto != e.Proto() {
		return false
	}
	if f.Exchange != "" && f.Exchange != e.Exchange() {
		return false
	}
	if f.Response != nil && *f.Response != e.Response() {
		return false
	}
	return f.From == "" || f.From == e.From()
}

func (n *Network) applyFaults(e *trace.Event) verdict {
	var v verdict
	for _, f := range n.Faults {
		if !f.matches(e) {
			continue
		}
		f.seen++
		if f.Nth > 0 && f.seen != f.Nth && !(f.Times > 1 && f.seen > f.Nth && f.fired < f.Times) {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		v.rule = f.Describe()
		switch f.Action {
		case "drop":
			v.drop = true
		case "duplicate":
			v.duplicate = true
		case "delay":
			v.delay += f.Delay
		case "corrupt":
			v.corrupt = true
		}
	}
	return v
}
