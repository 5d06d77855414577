package testenv

import (
	"bytes"
	"encoding/xml"
	"os/exec"
	"testing"
)

// PDMLField is one field of tshark's PDML output (-T pdml): its name, where its bytes lie
// (pos counts from the start of the frame, or of a decrypted buffer), and the fields
// below it. A protocol is a PDMLField too.
type PDMLField struct {
	Name   string      `xml:"name,attr"`
	Pos    int         `xml:"pos,attr"`
	Size   int         `xml:"size,attr"`
	Fields []PDMLField `xml:"field"`
}

// PDML runs tshark with args and -T pdml, and returns the protocols of each frame, in
// frame order. It fails the test when tshark fails or its output does not parse.
func PDML(t testing.TB, tshark string, args ...string) [][]PDMLField {
	t.Helper()
	out, err := exec.Command(tshark, append(args, "-T", "pdml")...).Output()
	if err != nil {
		t.Fatalf("testenv: tshark -T pdml: %v", err)
	}
	var frames [][]PDMLField
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "packet" {
			var p struct {
				Protos []PDMLField `xml:"proto"`
			}
			if err := dec.DecodeElement(&p, &se); err != nil {
				t.Fatalf("testenv: PDML: %v", err)
			}
			frames = append(frames, p.Protos)
		}
	}
	return frames
}
