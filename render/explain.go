package render

import (
	"strings"
	"sync"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike"
)

// layerScope names the protocol of a dissection's layers: every field below one of
// these (up to the next) is explained from that protocol's section of
// assets/explain/fields.txt.
var layerScope = map[string]string{
	"IKEv2 message": "ikev2", "ISAKMP message": "ikev1", "ESP": "esp",
	"IPv4": "ip", "UDP": "ip", "ICMP": "ip", "NAT-Keepalive": "ip", "Non-ESP Marker": "ip",
	"AH": "esp", "IPv6": "ip", "ICMPv6": "ip",
}

var catalog = sync.OnceValue(func() map[string]int {
	ex, err := assets.Fields()
	if err != nil {
		return nil
	}
	m := map[string]int{}
	for i, e := range ex {
		m[e.Scope+"|"+e.Key] = i
	}
	return m
})

// Scope is the protocol whose explanations apply to the last field of path (the
// fields from the dissection's root down to it): "ikev2", "ikev1", "esp" or "ip".
func Scope(path []*ike.Field) string {
	for i := len(path) - 1; i >= 0; i-- {
		if s, ok := layerScope[path[i].Name]; ok {
			return s
		}
	}
	return "ip"
}

// Explain finds the catalog entry (assets.Fields) that explains the last field of
// path, and its index in the catalog, or -1. It looks up "Name: Value", "Parent >
// Name", "Name", the name without a trailing " #n", then its first word, and only in
// the section of the field's protocol: an IKEv1 field never gets an IKEv2 text.
func Explain(path []*ike.Field) (assets.Explanation, int) {
	if len(path) == 0 {
		return assets.Explanation{}, -1
	}
	f := path[len(path)-1]
	scope := Scope(path)
	var keys []string
	if f.Value != "" {
		keys = append(keys, f.Name+": "+strings.Fields(f.Value)[0])
	}
	if len(path) > 1 {
		keys = append(keys, trimNumber(path[len(path)-2].Name)+" > "+f.Name)
	}
	keys = append(keys, f.Name, trimNumber(f.Name))
	if w := strings.Fields(f.Name); len(w) > 1 {
		keys = append(keys, w[0])
	}
	c := catalog()
	for _, k := range keys {
		if i, ok := c[scope+"|"+k]; ok {
			ex, _ := assets.Fields()
			return ex[i], i
		}
	}
	return assets.Explanation{}, -1
}

// trimNumber drops a trailing " #n" ("Proposal #1" is a Proposal).
func trimNumber(s string) string {
	if i := strings.LastIndex(s, " #"); i > 0 {
		return s[:i]
	}
	return s
}
