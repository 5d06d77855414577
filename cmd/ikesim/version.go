package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "The module version and the VCS revision ikesim was built from",
			Long: `version prints the module version of the ikesim binary and, when it was built from
a checkout, the VCS revision, its time, and whether the checkout had changes.`,
			Example: `  ikesim version
  go install ./cmd/... && ikesim version`,
			Args:              exactArgs(0, "no arguments"),
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				bi, ok := debug.ReadBuildInfo()
				if !ok {
					return fmt.Errorf("this binary carries no build information")
				}
				fmt.Fprintln(cmd.OutOrStdout(), versionLine(bi))
				return nil
			},
		}
	})
}

// versionLine is "ikesim VERSION (revision R, TIME, modified) GOVERSION" from the build
// information, with the parts it lacks left out.
func versionLine(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var vcs []string
	get := func(key string) string {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
		return ""
	}
	if r := get("vcs.revision"); r != "" {
		vcs = append(vcs, "revision "+r)
	}
	if t := get("vcs.time"); t != "" {
		vcs = append(vcs, t)
	}
	if get("vcs.modified") == "true" {
		vcs = append(vcs, "modified")
	}
	s := "ikesim " + v
	if len(vcs) > 0 {
		s += " (" + strings.Join(vcs, ", ") + ")"
	}
	return s + " " + bi.GoVersion
}
