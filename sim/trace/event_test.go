package trace

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// An event without its groups reads as zero through every reader, and none panics:
// the methods are called by reflection, so that a reader added later is checked too.
func TestEventReadersWithoutGroups(t *testing.T) {
	e := &Event{Kind: KindAction, Text: "an action"}
	v := reflect.ValueOf(e)
	n := 0
	for i := 0; i < v.NumMethod(); i++ {
		m := v.Type().Method(i)
		if m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
			continue // not a reader
		}
		out := v.Method(i).Call(nil)[0]
		if !out.IsZero() {
			t.Errorf("%s() of an event without its groups = %v, want the zero value", m.Name, out)
		}
		n++
	}
	if n < 37 {
		t.Errorf("called %d readers, want the 37 of Wire and StateFacts at least", n)
	}
	if e.Wire != nil {
		t.Errorf("reading gave the event a Wire: %+v", e.Wire)
	}
	e.SetDissect(nil) // a writer's call gives it a Wire
	if e.Wire == nil || e.Fields() != nil {
		t.Errorf("SetDissect(nil): Wire %v, Fields() %v", e.Wire, e.Fields())
	}
	if e.StateFacts != nil {
		t.Errorf("reading gave the event StateFacts: %+v", e.StateFacts)
	}
	if zeroWire.From != "" || zeroState.Conn != "" {
		t.Errorf("the zero groups were written to")
	}
}

// An event is small: the facts of few kinds are behind pointers (an Event was 752 bytes
// with every field its own).
func TestEventSize(t *testing.T) {
	if s := unsafe.Sizeof(Event{}); s > 256 {
		t.Errorf("an Event is %d bytes, want at most 256", s)
	}
}

// Events with and without their groups are written with the keys and in the order of
// docs/trace.schema.json, the groups' keys in place among the event's own, and read
// back to the same line; an event read without a group's keys has no group.
func TestEventGroupsJSON(t *testing.T) {
	lines := []string{
		`{"seq":1,"t":0,"kind":"action","node":"a","version":2,"text":"an action"}`,
		`{"seq":2,"t":0.5,"kind":"message","node":"a","from":"a","to":"b","src":"10.0.0.1:500","dst":"10.0.0.2:500",` +
			`"proto":"ikev2","exchange":"IKE_SA_INIT","summary":"HDR, SA, KE, Ni","msgid":0,"response":true,"retransmit":true,` +
			`"forwarded":true,"arrive":0.51,"encap":true,"bytes":"0102","spi_i":"0102030405060708","spi_r":"0000000000000000",` +
			`"payloads":["SA","KE"],"notifies":["COOKIE"],"errors":["INVALID_KE_PAYLOAD"],"group":"ecp256","purpose":"ike_sa",` +
			`"creates":[{"proto":"ike","spi":"0102030405060708"}],"rekeys":[{"proto":"esp","spi":"01020304"}],` +
			`"deletes":[{"proto":"ah","spi":"05060708"}],"weak":["modp1024"]}`,
		`{"seq":3,"t":1,"kind":"drop","node":"b","ref":2,"spi":"01020304","cause":"esp","ipsec":{"proto":"esp","reason":"replayed sequence number","seq":7},"text":"esp: replay"}`,
		`{"seq":4,"t":1,"kind":"state","node":"a","machine":"IKE SA s[1]","machine_kind":"IKE SA","instance":"s[1]",` +
			`"sa_type":"ike","conn":"s","child":"net","from_state":"CONNECTING","to_state":"ESTABLISHED"}`,
		`{"seq":5,"t":2,"kind":"error","node":"a","ref":4,"text":"no proposal chosen","sa_type":"child","conn":"s","child":"net",` +
			`"failure":{"reason":"no_proposal_chosen"}}`,
		`{"seq":6,"t":3,"kind":"timer","node":"a","timer":"rekey","op":"start","due":10}`,
	}
	for _, line := range lines {
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != line {
			t.Errorf("read and written again:\n got %s\nwant %s", got, line)
		}
		if hasWire := strings.Contains(line, `"ref"`) || strings.Contains(line, `"from"`); hasWire != (e.Wire != nil) {
			t.Errorf("%s: read with Wire %v", line, e.Wire != nil)
		}
		if hasState := strings.Contains(line, `"conn"`); hasState != (e.StateFacts != nil) {
			t.Errorf("%s: read with StateFacts %v", line, e.StateFacts != nil)
		}
	}
}
