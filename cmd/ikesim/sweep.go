package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/scenarios/sweep"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "sweep SCENARIO",
			Short: "What if this message is lost? Each IKE message dropped, duplicated, delayed or corrupted",
			Long: `sweep runs SCENARIO once per fault on each IKE message of its fault-free run: the message
is dropped, duplicated, delayed past the retransmission timeout, or corrupted. The runs
share a worker per core; on a terminal, stderr shows the progress. The table has a row
per message and a column per fault; each cell is the outcome: "ok" (every expectation
met), "up N/M" (every SA of the fault-free run came up, N of M expectations met), the
run's first failure by its notify or reason, or FINDING (neither up nor failed by the
end: a hang), with when the last IKE message was sent. --json prints the table as data.`,
			Example: `  ikesim sweep ikev2-ping
  ikesim sweep lab-dpd --json > lab-dpd-sweep.json`,
			Args:              exactArgs(1, "one SCENARIO"),
			ValidArgsFunction: completeScenario,
		}
		seed := addSeed(cmd)
		asJSON := cmd.Flags().Bool("json", false, "print the table as JSON")
		workers := cmd.Flags().Int("workers", runtime.NumCPU(), "runs at once: one per core")
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(args[0])
			if err != nil {
				return err
			}
			opt := sweep.Options{Workers: *workers}
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && isTerminal(f) {
				opt.Progress = func(done, total int) {
					fmt.Fprintf(f, "\rsweep %s: %d of %d runs", sc.File.Name, done, total)
					if done == total {
						fmt.Fprintln(f)
					}
				}
			}
			t, err := sweep.Run(sc, seed.pick(sc), opt)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(t)
			}
			_, err = io.WriteString(w, sweep.Format(t))
			return err
		}
		return cmd
	})
}
