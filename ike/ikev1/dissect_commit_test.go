package ikev1

import (
	"strings"
	"testing"
)

// TestCommitFlagExplained checks the Commit flag's explanation against RFC 2408,
// Section 3.1: the side that did not set it waits for the sender's CONNECTED.
func TestCommitFlagExplained(t *testing.T) {
	b := make([]byte, HeaderLen)
	b[17] = 0x10                // version 1.0
	b[18] = byte(ExchangeQuick) // quick mode
	b[19] = byte(FlagCommit)
	b[27] = HeaderLen
	f := Dissect(b, nil).Find("Commit")
	if f == nil || f.Value != "1" {
		t.Fatalf("no Commit flag set in %+v", f)
	}
	if !strings.Contains(f.Explain, "peer must wait for the sender's CONNECTED") {
		t.Errorf("the Commit flag is explained as %q", f.Explain)
	}
}
