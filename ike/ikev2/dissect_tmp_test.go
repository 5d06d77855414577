package ikev2

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/ike"
	"github.com/ikesim/ikesim/ike/testenv"
)

func TestTmpPrint(t *testing.T) {
	pcap := filepath.Join(testenv.Shared(t), "captures", "ikev2-psk.pcap")
	keys := captureKeys(t, pcap)
	for _, c := range readCaptureIKE(t, pcap) {
		if c.frame != 1 && c.frame != 11 {
			continue
		}
		m, _ := Parse(c.data)
		root := Dissect(c.data, skFor(keys, &m.Header))
		root.Walk(func(f *ike.Field, d int) {
			fmt.Printf("%s%s = %s [%d+%d] %s %s\n", strings.Repeat("  ", d), f.Name, f.Value, f.Offset, f.Length, f.Explain, f.Error)
		})
	}
}
