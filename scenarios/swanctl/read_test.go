package swanctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/assets"
	"github.com/ikesim/ikesim/ike/testenv"
	"github.com/ikesim/ikesim/scenarios/config"
)

func read(t *testing.T, files map[string]string) (*config.Node, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "swanctl.conf")
	return format{}.Read("gw", p, []byte(files["swanctl.conf"]))
}

// TestSyntaxErrors: every syntax error names its file, line and column, and shows the
// line with a caret under the place.
func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		name, text, want string
	}{
		{"unclosed section", "connections {\n  a {\n    version = 2\n", `swanctl.conf:4:1: section "a" is not closed: a '}' is missing`},
		{"stray brace", "connections {\n}\n}\n", "swanctl.conf:3:1: '}' closes no section\n     3 | }\n       | ^"},
		{"no equals", "connections {\n  a {\n    version 2\n  }\n}\n", "swanctl.conf:3:13: after \"version\": '=' (a setting) or '{' (a section) expected\n     3 |     version 2\n       |             ^"},
		{"unterminated string", "secrets {\n  ike {\n    secret = \"abc\n  }\n}\n", `swanctl.conf:3:14: this string has no closing '"'`},
		{"dotted name", "connections.a {\n}\n", `swanctl.conf:1:12: "connections": a dotted name is strongswan.conf's command line, not its files: write nested sections`},
		{"missing include", "include other.conf\n", "swanctl.conf:1:1: include"},
		{"unknown template", "connections {\n  a : connections.base {\n  }\n}\n", "swanctl.conf:2:7: section \"connections.base\" to inherit from does not exist\n     2 |   a : connections.base {\n       |       ^"},
		{"bad time", "connections {\n  a {\n    dpd_delay = soon\n  }\n}\n", `swanctl.conf:3:5: dpd_delay: "soon" is not a time`},
		{"bad version", "connections {\n  a {\n    version = 3\n  }\n}\n", `swanctl.conf:3:5: version: "3" is not 0, 1 or 2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := read(t, map[string]string{"swanctl.conf": c.text})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if i := strings.Index(msg, "swanctl.conf:"); i >= 0 {
				msg = msg[i:]
			}
			if !strings.HasPrefix(msg, c.want) {
				t.Errorf("error:\n%s\nwant it to start with:\n%s", msg, c.want)
			}
		})
	}
}

// TestSyntax: what libstrongswan's settings parser reads: comments, quoted strings with
// escapes, values of several words, a key set twice (the last wins), a section named
// twice (one section), include with a glob, and a section that inherits a template.
func TestSyntax(t *testing.T) {
	n, err := read(t, map[string]string{
		"swanctl.conf": `# a comment
connections {
  base {   # a template
    version = 1
    proposals = aes128-sha256-modp2048
    remote_addrs = 192.0.2.2
    local { auth = psk
      id = gw.example }
  }
  vpn : connections.base {
    local_addrs = 192.0.2.1
    remote {
      auth = psk
      id = "peer example"
    }
  }
}
include conf.d/*.conf
secrets {
  ike-1 {
    id = gw.example
    secret = "a \"quoted\" secret"
  }
}
`,
		"conf.d/a.conf": "connections {\n  vpn {\n    proposals = 3des-sha1-modp1024\n    proposals = aes256-sha256-modp2048\n  }\n}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	vpn := n.Conns["vpn"]
	if vpn == nil || vpn.Version != 1 || vpn.Local.ID != "gw.example" || vpn.Remote.ID != "peer example" ||
		strings.Join(vpn.Proposals, " ") != "aes256-sha256-modp2048" || strings.Join(vpn.LocalAddrs, " ") != "192.0.2.1" ||
		strings.Join(vpn.RemoteAddrs, " ") != "192.0.2.2" {
		t.Errorf("vpn: %+v", vpn)
	}
	if p := n.At("vpn.proposals"); filepath.Base(p.File) != "a.conf" || p.Line != 4 {
		t.Errorf("vpn's proposals are from %s, want conf.d/a.conf:4", p)
	}
	if p := n.At("vpn.version"); filepath.Base(p.File) != "swanctl.conf" || p.Line != 4 {
		t.Errorf("vpn's version is from %s, want the template's line, swanctl.conf:4", p)
	}
	if len(n.Secrets) != 1 || n.Secrets[0].Secret != `a "quoted" secret` {
		t.Errorf("secrets %+v", n.Secrets)
	}
}

// TestNotes: a setting with no equivalent, or one the scenario approximates, is a note
// with its file and line; none is dropped without one.
func TestNotes(t *testing.T) {
	n, err := read(t, map[string]string{"swanctl.conf": `connections {
  vpn {
    local_addrs = 192.0.2.1
    remote_addrs = 192.0.2.2
    local_port = 4501
    mobike = yes
    unique = replace
    dscp = 000001
    local {
      auth = psk
      id = a
    }
    remote {
      auth = psk
      id = b
    }
    children {
      net {
        local_ts = 10.1.0.0/24[tcp/80]
        remote_ts = 10.2.0.0/24
        updown = /usr/local/sbin/updown
        ah_proposals = sha256
      }
    }
  }
}
pools {
  unused { addrs = 10.3.0.0/24 }
}
secrets {
  ntlm-x { secret = x }
}
charon-systemd { }
`})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		5:  "local_port = 4501: the scenario runs IKE on port 500",
		6:  "mobike = yes: ikesim has no MOBIKE",
		7:  "connections.vpn.unique = replace: no equivalent",
		8:  "connections.vpn.dscp = 000001: no equivalent",
		19: "local_ts = 10.1.0.0/24[tcp/80]: 10.1.0.0/24[tcp/80]: ikesim's selectors cover all protocols and ports",
		21: "connections.vpn.children.net.updown = /usr/local/sbin/updown: no equivalent",
		28: "pools.unused { ... }: no equivalent",
		31: "ntlm-x { ... }: secrets of this type have no equivalent",
		33: "charon-systemd { ... }: no equivalent",
	}
	for _, note := range n.Notes {
		if w, ok := want[note.Pos.Line]; ok && strings.Contains(note.Msg, w) {
			delete(want, note.Pos.Line)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing notes %v; notes: %v", want, n.Notes)
	}
}

// FuzzRead: no input makes the reader panic or hang; a failure is an error list with
// positions.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"ikev2-psk", "ikev1-main", "ikev1-aggr", "ikev2-psk-port500"} {
		for _, side := range []string{"a", "b"} {
			data, err := os.ReadFile(filepath.Join(testenv.Captures(f), name+".swanctl-"+side+".conf"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("a : b, c.d {\n x = \"\\\n\" # }\n}\ninclude \"x\\\"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := format{}.Read("gw", "/nonexistent/swanctl.conf", data)
		if err == nil && n == nil {
			t.Fatal("no node and no error")
		}
	})
}

// TestCredentialFolders: as swanctl --load-creds does, the CA certificates of the
// x509ca folder beside the configuration become the node's trust store, and the keys of
// its private folder the private keys of its certificates.
func TestCredentialFolders(t *testing.T) {
	files := map[string]string{"swanctl.conf": `connections {
  vpn {
    local_addrs = 192.0.2.1
    remote_addrs = 192.0.2.2
    local {
      auth = pubkey
      certs = gw-a.pem
      id = gw-a.example
    }
    remote {
      auth = pubkey
      id = gw-b.example
    }
  }
}
`}
	for _, f := range []string{"x509/gw-a.pem", "private/gw-a.key", "x509ca/ca.pem"} {
		data, ok := assets.PKIFile(filepath.Base(f))
		if !ok {
			t.Fatal(f)
		}
		files[f] = string(data)
	}
	n, err := read(t, files)
	if err != nil {
		t.Fatal(err)
	}
	c := n.Conns["vpn"]
	if len(c.Local.Certs) != 1 || !strings.HasSuffix(c.Local.Certs[0], "/x509/gw-a.pem") {
		t.Errorf("certs %v", c.Local.Certs)
	}
	if len(n.CACerts) != 1 || !strings.HasSuffix(n.CACerts[0], "/x509ca/ca.pem") {
		t.Errorf("trust store %v", n.CACerts)
	}
	if len(n.Secrets) != 1 || n.Secrets[0].Type != "private" || !strings.HasSuffix(n.Secrets[0].File, "/private/gw-a.key") {
		t.Errorf("secrets %+v", n.Secrets)
	}
}
