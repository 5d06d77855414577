// Package ios reads Cisco IOS configurations into a scenario's node and writes a
// scenario's node as IOS configuration: the ios format of package config. It reads
// IKEv1 (crypto isakmp policy, key and peer; crypto ipsec transform-set; crypto maps
// with their access lists), IKEv2 (crypto ikev2 proposal, policy, keyring and profile)
// and the interfaces, with IOS's defaults for what a configuration leaves out; every
// other command becomes a note with its file and line.
//
// It is on floor 4 with scenarios and config, and never imports render or a UI package.
package ios

import (
	"regexp"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

func init() { config.Register(format{}) }

type format struct{}

func (format) Name() string { return "ios" }

// commandStart matches the commands an IOS configuration with IPsec has.
var commandStart = regexp.MustCompile(`(?m)^(crypto (isakmp|ipsec|map|ikev2) |interface [A-Za-z])`)

func (format) Detect(data []byte) bool { return commandStart.Match(data) }

func (format) Read(node, path string, data []byte) (*config.Node, error) {
	n := config.NewNode(node, "Cisco IOS", path)
	r := &reader{n: n}
	if err := r.read(parseLines(path, data)); err != nil {
		return nil, err
	}
	return n, nil
}

func (format) Export(s *scenarios.Scenario, node string) ([]byte, []config.Note, error) {
	return export(s, node)
}
