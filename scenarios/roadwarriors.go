package scenarios

import (
	"fmt"
	"strings"
)

// RoadWarriors is a scenario of n road warriors on one segment with a gateway, written
// as a group: each brings up an IKE SA with a pre-shared key of its own (the gateway
// finds it by the identity the road warrior sends: remote id %any) when its ping to a
// server behind the gateway hits its trap policy. children is the Child SAs each
// brings up: the trap's, and more with start_action start. The tests and benchmarks of
// large runs use it; `ikesim run` takes what it writes.
func RoadWarriors(n, children int) []byte {
	var extra strings.Builder
	for c := 2; c <= children; c++ {
		fmt.Fprintf(&extra, "          net%d: {local_ts: [dynamic], remote_ts: [10.0.%d.0/24], start_action: start}\n", c, c)
	}
	var gwExtra strings.Builder
	for c := 2; c <= children; c++ {
		fmt.Fprintf(&gwExtra, "        net%d: {local_ts: [10.0.%d.0/24], remote_ts: [dynamic]}\n", c, c)
	}
	return []byte(fmt.Sprintf(`name: road-warriors-%d
duration: 30s
topology:
  nodes:
    - {name: server, kind: host, address: 10.0.0.10/16}
    - {name: gw, kind: gateway, addresses: [10.0.0.1/16, 172.16.0.1/16]}
  links:
    - {between: [server, gw]}
  segments:
    - {name: lan, nodes: [gw, rw], prefix: 172.16.0.0/16, delay: 5ms}
groups:
  - name: rw
    count: %d
    node: {name: 'rw-{i}', kind: host, address: 172.16.1.1/16}
    connections:
      home:
        remote_addrs: [172.16.0.1]
        proposals: [aes128-sha256-x25519]
        local: {id: 'rw-{i}.example'}
        remote: {id: gw.example}
        children:
          net: {local_ts: [dynamic], remote_ts: [10.0.0.0/24], start_action: trigger}
%s    secrets:
      - {ids: ['rw-{i}.example'], secret: 'secret of rw-{i}'}
    timeline:
      - {at: 0s, ping: {from: 'rw-{i}', to: server}}
connections:
  gw:
    rw:
      local_addrs: [172.16.0.1]
      proposals: [aes128-sha256-x25519]
      local: {id: gw.example}
      remote: {id: '%%any'}
      children:
        net: {local_ts: [10.0.0.0/24], remote_ts: [dynamic]}
%s`, n, n, extra.String(), gwExtra.String()))
}
