package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim"
	"github.com/ikesim/ikesim/sim/trace"
)

// portList is a comma-separated list of UDP ports.
type portList []uint16

func (p *portList) String() string {
	var s []string
	for _, n := range *p {
		s = append(s, strconv.Itoa(int(n)))
	}
	return strings.Join(s, ",")
}
func (p *portList) Type() string { return "ports" }
func (p *portList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%q is not a UDP port", s)
		}
		*p = append(*p, uint16(n))
	}
	return nil
}

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "import FILE.pcap [--keys DIR]",
			Short: "A real capture (strongSwan's, say) as a trace, decrypted with its key tables",
			Long: `import reads a capture (pcap or pcapng, gzip-compressed or not) and turns every IKE and ESP datagram into a message of a trace,
with the same dissection as a simulated run. With --keys it decrypts them with Wireshark's
key tables (ikev2_decryption_table, ikev1_decryption_table, esp_sa), as strongSwan's
save-keys plugin or 'ikesim live --keys' write them. IKE is found on ports 500 and 4500
and, by its header, on any other UDP port; --natt-ports names the ports that carry
RFC 3948 framing (a non-ESP marker before IKE, ESP without it) besides 4500, so that ESP
on them is found too. Nodes are the IP addresses (address:port when two ends share one).
A capture of more than 24 nodes prints a summary instead of the diagram, as 'ikesim run'
does: --diagram draws it anyway, --nodes and --fold pick lanes. -o saves the trace for
'ikesim tui' and 'ikesim render'.`,
			Example: `  ikesim import capture.pcap --keys keys
  ikesim import loopback.pcap --natt-ports 15500,14500 -o loopback.jsonl
  ikesim import capture.pcap --keys keys --json | jq .summary`,
			Args: exactArgs(1, "one FILE.pcap (or .pcapng, gzip-compressed or not)"),
		}
		keyDir := cmd.Flags().String("keys", "", "`DIR`ectory with the Wireshark key tables")
		asJSON := cmd.Flags().Bool("json", false, "print the trace as JSON Lines instead of the diagram")
		out := cmd.Flags().StringP("output", "o", "", "write the JSON Lines trace to this `FILE` (for ikesim tui and render)")
		diagram := cmd.Flags().Bool("diagram", false, "draw the diagram even of a capture of more than 24 nodes (default: a summary)")
		var lanes laneFlags
		addLaneFlags(cmd, &lanes)
		var natt portList
		cmd.Flags().Var(&natt, "natt-ports", "UDP ports besides 4500 that carry the non-ESP marker, e.g. 14500,15500")
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			var keys sim.ImportKeys
			if *keyDir != "" {
				var err error
				if keys, err = sim.ReadKeyDir(*keyDir); err != nil {
					return err
				}
				for _, l := range keys.Skipped {
					fmt.Fprintf(cmd.ErrOrStderr(), "ikesim: warning: %s\n", l)
				}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			tr, err := sim.Import(f, sim.ImportOptions{Keys: keys, NATTPorts: natt})
			var none *sim.NoIKEError
			if errors.As(err, &none) && len(none.Ports) > 0 {
				return fmt.Errorf("%v; if they carry ESP-in-UDP or IKE behind a non-ESP marker, name them: --natt-ports %s", err, none.PortList())
			}
			if err != nil {
				return err
			}
			if *out != "" {
				if err := writeFile(*out, tr.WriteJSON); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if *asJSON {
				return tr.WriteJSON(w)
			}
			datagrams := 0
			for _, e := range tr.Events {
				if e.Kind == trace.KindMessage {
					datagrams++
				}
			}
			fmt.Fprintf(w, "%s: %d datagrams\n\n", args[0], datagrams)
			nodes, _ := render.TraceNodes(tr)
			return writeDiagram(w, tr, len(nodes), "capture", runOutput{diagram: *diagram, lanes: lanes})
		}
		return cmd
	})
}
