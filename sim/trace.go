package sim

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ikesim/ikesim/ike"
)

// Kind says what an Event records.
type Kind string

const (
	KindMessage Kind = "message" // a datagram put on a wire
	KindRecv    Kind = "recv"    // a datagram taken off a wire by the node at its end
	KindDrop    Kind = "drop"    // a datagram lost or discarded, with the reason
	KindAction  Kind = "action"  // a step a node takes, in words
	KindState   Kind = "state"   // a state machine changed state
	KindTimer   Kind = "timer"   // a timer started, fired or was cancelled
	KindSA      Kind = "sa"      // an IKE or Child SA came up or went down
	KindError   Kind = "error"   // an exchange failed
	KindInfo    Kind = "info"    // scenario bookkeeping: a timeline step, a link going down
)

// Seconds is virtual time; it is written to JSON as seconds.
type Seconds time.Duration

// MarshalJSON writes the time as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("sim: time %s is not a number of seconds", b)
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// Duration converts back to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// String prints the time the way diagrams show it: seconds with millisecond precision.
func (s Seconds) String() string { return fmt.Sprintf("%.3fs", time.Duration(s).Seconds()) }

// Hex is a byte string written to JSON as hex.
type Hex []byte

// MarshalJSON writes the bytes as a hex string.
func (h Hex) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// UnmarshalJSON reads a hex string.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("sim: bad hex bytes: %v", err)
	}
	*h = d
	return nil
}

// Event is one record of the trace. Which fields are set depends on Kind.
type Event struct {
	Seq  int     `json:"seq"`
	T    Seconds `json:"t"`
	Kind Kind    `json:"kind"`
	Node string  `json:"node,omitempty"`

	// message, recv, drop
	From       string     `json:"from,omitempty"` // node names at the two ends of the wire
	To         string     `json:"to,omitempty"`
	Src        string     `json:"src,omitempty"` // addr:port (or addr)
	Dst        string     `json:"dst,omitempty"`
	Proto      string     `json:"proto,omitempty"` // ikev1, ikev2, esp, icmp, udp, ip, nat-keepalive
	Exchange   string     `json:"exchange,omitempty"`
	Summary    string     `json:"summary,omitempty"`
	MessageID  *uint32    `json:"msgid,omitempty"`
	Response   bool       `json:"response,omitempty"`
	Retransmit bool       `json:"retransmit,omitempty"`
	Forwarded  bool       `json:"forwarded,omitempty"` // message: passed on by a router, gateway or NAT, not made here
	Arrive     *Seconds   `json:"arrive,omitempty"`    // message: when it reaches the far end (absent when lost)
	Ref        int        `json:"ref,omitempty"`       // recv, drop: the seq of the message event
	Bytes      Hex        `json:"bytes,omitempty"`
	Dissection *ike.Field `json:"dissection,omitempty"`

	// action, drop (the reason), error, info
	Text string `json:"text,omitempty"`

	// state
	Machine   string `json:"machine,omitempty"`
	FromState string `json:"from_state,omitempty"`
	ToState   string `json:"to_state,omitempty"`

	// timer
	Timer string   `json:"timer,omitempty"`
	Op    string   `json:"op,omitempty"` // timer: start, fire, cancel; sa: up, down
	Due   *Seconds `json:"due,omitempty"`

	// sa
	SA *SARecord `json:"sa,omitempty"`

	Weak []string `json:"weak,omitempty"`

	// lazy makes Dissection when it is first asked for (see Fields).
	lazy func() *ike.Field
}

// Fields returns the event's dissection, making it on first use.
func (e *Event) Fields() *ike.Field {
	if e.Dissection == nil && e.lazy != nil {
		e.Dissection = e.lazy()
		e.lazy = nil
	}
	return e.Dissection
}

// SARecord describes an SA that came up or went down, with its keys, so that key tables
// can be written from a trace alone.
type SARecord struct {
	Type      string `json:"type"` // "ike" or "child"
	Version   int    `json:"version,omitempty"`
	Conn      string `json:"conn,omitempty"`
	Child     string `json:"child,omitempty"`
	Peer      string `json:"peer,omitempty"`
	Local     string `json:"local,omitempty"`
	Remote    string `json:"remote,omitempty"`
	Initiator bool   `json:"initiator,omitempty"`
	Proposal  string `json:"proposal,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// IKE SA
	SPIi string `json:"spi_i,omitempty"`
	SPIr string `json:"spi_r,omitempty"`
	SKei Hex    `json:"sk_ei,omitempty"`
	SKer Hex    `json:"sk_er,omitempty"`
	SKai Hex    `json:"sk_ai,omitempty"`
	SKar Hex    `json:"sk_ar,omitempty"`
	// EncKey is IKEv1's encryption key (Wireshark's ikev1_decryption_table).
	EncKey Hex `json:"enc_key,omitempty"`
	// Transforms of the selected proposal, by IANA ID.
	Encr        uint16 `json:"encr,omitempty"`
	EncrKeyBits int    `json:"encr_key_bits,omitempty"`
	Integ       uint16 `json:"integ,omitempty"`
	// Child SA
	Mode        string   `json:"mode,omitempty"`
	Encap       bool     `json:"encap,omitempty"`
	SPIIn       string   `json:"spi_in,omitempty"`
	SPIOut      string   `json:"spi_out,omitempty"`
	EncrKeyIn   Hex      `json:"encr_key_in,omitempty"`
	IntegKeyIn  Hex      `json:"integ_key_in,omitempty"`
	EncrKeyOut  Hex      `json:"encr_key_out,omitempty"`
	IntegKeyOut Hex      `json:"integ_key_out,omitempty"`
	LocalTS     []string `json:"local_ts,omitempty"`
	RemoteTS    []string `json:"remote_ts,omitempty"`
	LifeTime    Seconds  `json:"life_time,omitempty"`
}

// Trace is the event bus and its record: every event, in order.
type Trace struct {
	Events []*Event
	subs   []func(*Event)
}

// Emit numbers the event, records it and hands it to every subscriber.
func (t *Trace) Emit(e *Event) {
	e.Seq = len(t.Events) + 1
	t.Events = append(t.Events, e)
	for _, f := range t.subs {
		f(e)
	}
}

// Subscribe calls f for every event emitted from now on.
func (t *Trace) Subscribe(f func(*Event)) { t.subs = append(t.subs, f) }

// WriteJSON writes the trace as JSON Lines, one event per line.
func (t *Trace) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, e := range t.Events {
		e.Fields()
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSON reads a trace written by WriteJSON. A bad line is an error naming it.
func ReadJSON(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	t := &Trace{}
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("sim: trace line %d: %v", line, err)
		}
		if e.Kind == "" {
			return nil, fmt.Errorf("sim: trace line %d: event has no kind", line)
		}
		t.Events = append(t.Events, &e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sim: reading trace: %v", err)
	}
	if len(t.Events) == 0 {
		return nil, fmt.Errorf("sim: trace is empty")
	}
	return t, nil
}
