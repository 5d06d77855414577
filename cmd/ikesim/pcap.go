package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/sim/trace"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "pcap SCENARIO -o FILE.pcap [--keys DIR]",
			Short: "Write a scenario's packets as a pcap, and the Wireshark key tables",
			Long: `pcap runs SCENARIO and writes every datagram as a pcap (each packet once, as it
leaves its sender, unless --all-hops). With --keys it also writes Wireshark's key tables
(ikev2_decryption_table, ikev1_decryption_table, esp_sa) into DIR and prints the tshark
command that decrypts the pcap with them.`,
			Example: `  ikesim pcap ikev2-modern -o modern.pcap --keys keys
  ikesim pcap ikev2-nat -o nat.pcap --all-hops
  ikesim pcap lab-loss --seed 4 -o loss.pcapng --format pcapng`,
			Args:              exactArgs(1, "one SCENARIO"),
			ValidArgsFunction: completeScenario,
		}
		seed := addSeed(cmd)
		out := cmd.Flags().StringP("output", "o", "", "the pcap `FILE` to write (required)")
		keys := cmd.Flags().String("keys", "", "`DIR`ectory for the Wireshark key tables")
		allHops := cmd.Flags().Bool("all-hops", false, "also write every forwarded copy of a packet (one per link it crosses)")
		format := cmd.Flags().String("format", "pcap", "pcap, or pcapng with the trace's narration as packet comments")
		cmd.RegisterFlagCompletionFunc("format", fixedCompletions([]string{"pcap", "pcapng"}))
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if *out == "" {
				return usagef("pcap needs -o FILE.pcap")
			}
			write := trace.WritePcap
			switch *format {
			case "pcap":
			case "pcapng":
				write = trace.WritePcapng
			default:
				return oneOf("pcap format", *format, []string{"pcap", "pcapng"})
			}
			r, err := simulate(args[0], seed)
			if err != nil {
				return err
			}
			if err := writeFile(*out, func(w io.Writer) error { return write(r.Sim.Trace, w, *allHops) }); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s\n", *out)
			if *keys == "" {
				return nil
			}
			k, err := writeKeys(r.Sim.Trace, *keys, w, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\ndecrypt with:\n  tshark -r %s", *out)
			for _, a := range k.TsharkArgs() {
				if strings.HasPrefix(a, "-") {
					fmt.Fprintf(w, " \\\n    %s", a)
				} else {
					fmt.Fprintf(w, " %s", shellQuote(a))
				}
			}
			fmt.Fprintln(w)
			return nil
		}
		return cmd
	})
}

// writeFile creates path and writes it with f.
func writeFile(path string, f func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeKeys writes the key tables of a trace's SAs into dir, says so on w, and warns on
// ew about each SA that tshark cannot decrypt.
func writeKeys(tr *trace.Trace, dir string, w, ew io.Writer) (trace.KeyTables, error) {
	k := trace.Keys(tr)
	if err := k.Write(dir); err != nil {
		return k, err
	}
	for _, s := range k.Skipped {
		fmt.Fprintf(ew, "ikesim: note: tshark cannot decrypt %s\n", s)
	}
	fmt.Fprintf(w, "wrote %s/{ikev2_decryption_table,ikev1_decryption_table,esp_sa}\n", dir)
	return k, nil
}
