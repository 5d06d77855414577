package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios/sweep"
)

func TestSweepPrintsTheTableOrJSON(t *testing.T) {
	out, err := ikesim(t, "sweep", "ikev2-ping")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sweep of ikev2-ping", "drop", "duplicate", "delay", "corrupt", "gw-a → gw-b IKE_SA_INIT request #0", "32 expected"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	out, err = ikesim(t, "sweep", "--json", "ikev2-ping")
	if err != nil {
		t.Fatal(err)
	}
	var tb sweep.Table
	if err := json.Unmarshal([]byte(out), &tb); err != nil || len(tb.Messages) != 8 || len(tb.Cells) != 8 || tb.Cells[0][0].Kind == "" {
		t.Fatalf("--json: %v: %.300s", err, out)
	}
	if _, err := ikesim(t, "sweep"); err == nil {
		t.Error("sweep without a scenario is no usage error")
	}
}
