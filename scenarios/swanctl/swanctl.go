// Package swanctl reads strongSwan's swanctl.conf into a scenario's node and writes a
// scenario's node as swanctl.conf: the swanctl format of package config. It reads the
// connections, secrets, pools and authorities sections with strongSwan's defaults for
// what a file leaves out, in the syntax libstrongswan's settings parser reads (nested
// sections, include, inheritance); every setting it cannot express becomes a note with
// its file and line.
//
// It is on floor 4 with scenarios and config, and never imports render or a UI package.
package swanctl

import (
	"path/filepath"
	"regexp"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

func init() { config.Register(format{}) }

type format struct{}

func (format) Name() string { return "swanctl" }

// sectionStart matches the first line of a swanctl.conf's sections.
var sectionStart = regexp.MustCompile(`(?m)^[ \t]*(connections|secrets|pools|authorities)[ \t]*(\{|$)|^[ \t]*include[ \t]+[^= \t]`)

func (format) Detect(data []byte) bool { return sectionStart.Match(data) }

func (format) Read(node, path string, data []byte) (*config.Node, error) {
	root, src, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	n := config.NewNode(node, "swanctl.conf", path)
	r := &reader{n: n, root: root, dir: filepath.Dir(path), src: src}
	if err := r.read(); err != nil {
		return nil, err
	}
	return n, nil
}

func (format) Export(s *scenarios.Scenario, node string) ([]byte, []config.Note, error) {
	return export(s, node)
}
