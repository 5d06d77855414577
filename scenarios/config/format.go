package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
)

// Format is one configuration format: it recognises its files by their content, reads
// one gateway's file into a Node, and writes a node of a scenario back.
type Format interface {
	// Name is the format's name for people and for --format: swanctl, ios.
	Name() string
	// Detect reports whether data looks like a file of this format.
	Detect(data []byte) bool
	// Read reads the configuration of the gateway called node from the file at path
	// (data is its content; included files are read relative to path). A syntax error
	// is a scenarios.ErrorList with file:line:column and the source line.
	Read(node, path string, data []byte) (*Node, error)
	// Export writes the configuration of a scenario's node in this format. Notes name
	// what the format cannot say and the export left out.
	Export(s *scenarios.Scenario, node string) ([]byte, []Note, error)
}

var formats []Format

// Register adds a format; each format package registers itself in its init function.
func Register(f Format) {
	formats = append(formats, f)
	sort.Slice(formats, func(i, j int) bool { return formats[i].Name() < formats[j].Name() })
}

// Formats lists the registered formats by name.
func Formats() []Format { return append([]Format(nil), formats...) }

// FormatNames are the names of the registered formats.
func FormatNames() []string {
	var names []string
	for _, f := range formats {
		names = append(names, f.Name())
	}
	return names
}

// Lookup finds a format by name.
func Lookup(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// Detect finds the format of a file from its content: exactly one format must claim
// it.
func Detect(path string, data []byte) (Format, error) {
	var found []Format
	for _, f := range formats {
		if f.Detect(data) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("config: %s is no %s configuration: none of its lines starts a section or a command of one", path, orList(FormatNames()))
	}
	var names []string
	for _, f := range found {
		names = append(names, f.Name())
	}
	return nil, fmt.Errorf("config: %s could be %s", path, orList(names))
}

func orList(names []string) string {
	switch len(names) {
	case 0:
		return "a known format"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Input is one gateway's configuration file.
type Input struct {
	Node string // the node's name in the scenario
	Path string
	Data []byte
}

// ParseArg reads a NODE=FILE argument.
func ParseArg(arg string) (node, path string, err error) {
	node, path, ok := strings.Cut(arg, "=")
	if !ok || node == "" || path == "" {
		return "", "", fmt.Errorf("config: %q is not NODE=FILE (e.g. gw-a=swanctl.conf)", arg)
	}
	if strings.ContainsAny(node, " \t:{}[],#&*!|>'\"%@`") {
		return "", "", fmt.Errorf("config: node name %q: use letters, digits, '-', '_' and '.'", node)
	}
	return node, path, nil
}

// Read reads the inputs, each in the format its content shows.
func Read(inputs []Input) ([]*Node, error) {
	var nodes []*Node
	seen := map[string]bool{}
	for _, in := range inputs {
		if seen[in.Node] {
			return nil, fmt.Errorf("config: node %q is named twice", in.Node)
		}
		seen[in.Node] = true
		f, err := Detect(in.Path, in.Data)
		if err != nil {
			return nil, err
		}
		n, err := f.Read(in.Node, in.Path, in.Data)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}
