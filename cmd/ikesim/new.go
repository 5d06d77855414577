package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
)

// cmdNew writes a commented starter scenario NAME.yaml; it never overwrites a file.
func cmdNew(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("new", flag.ContinueOnError)
	out := fs.String("o", "", "the file to write (default NAME.yaml)")
	pos, err := parse(fs, args, 1, "one NAME")
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(pos[0], ".yaml")
	data, err := scenarios.Starter(name)
	if err != nil {
		return usagef("%v", strings.TrimPrefix(err.Error(), "scenario: "))
	}
	path := *out
	if path == "" {
		path = name + ".yaml"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists already; choose another name or -o FILE", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: edit it, then run 'ikesim check %s'\n", path, path)
	return nil
}
