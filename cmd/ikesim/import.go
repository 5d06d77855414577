package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ikesim/ikesim/render"
	"github.com/ikesim/ikesim/sim"
)

// portList is a comma-separated list of UDP ports.
type portList []uint16

func (p *portList) String() string { return fmt.Sprint([]uint16(*p)) }
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

// cmdImport reads a capture and key tables and prints its trace, as a diagram or JSON.
func cmdImport(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	keyDir := fs.String("keys", "", "directory with the Wireshark key tables")
	asJSON := fs.Bool("json", false, "print the trace as JSON Lines")
	out := fs.String("o", "", "write the JSON Lines trace to this file (for ikesim tui and render)")
	var natt portList
	fs.Var(&natt, "natt-ports", "UDP ports besides 4500 that carry the non-ESP marker, e.g. 14500,15500")
	pos, err := parse(fs, args, 1, "one FILE.pcap (or .pcapng, gzip-compressed or not)")
	if err != nil {
		return err
	}
	var keys sim.ImportKeys
	if *keyDir != "" {
		if keys, err = sim.ReadKeyDir(*keyDir); err != nil {
			return err
		}
		for _, l := range keys.Skipped {
			fmt.Fprintf(os.Stderr, "ikesim: warning: %s\n", l)
		}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := sim.Import(f, sim.ImportOptions{Keys: keys, NATTPorts: natt})
	if err != nil {
		return err
	}
	if *out != "" {
		o, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := tr.WriteJSON(o); err != nil {
			o.Close()
			return err
		}
		if err := o.Close(); err != nil {
			return err
		}
	}
	if *asJSON {
		return tr.WriteJSON(w)
	}
	fmt.Fprintf(w, "%s: %d datagrams\n\n", pos[0], len(tr.Events))
	return render.WriteText(w, render.Build(tr, render.Options{}), render.TextOptions{})
}
