package ikev2test

import "github.com/ikesim/ikesim/ike/iketest"

// Recorder is an ike.Observer that keeps everything an engine reports, as typed values
// and in order (iketest.Recorder).
type Recorder = iketest.Recorder

// Drop is a datagram the engine discarded, and why.
type Drop = iketest.Drop
