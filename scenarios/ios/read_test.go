package ios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ikesim/ikesim/scenarios/config"
)

func readIOS(t *testing.T, text string) (*config.Node, error) {
	t.Helper()
	return format{}.Read("R1", "r1.cfg", []byte(text))
}

// TestErrors: a command ikesim reads but cannot understand is an error at its word,
// with the line and a caret.
func TestErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"bad group", "crypto isakmp policy 10\n group 7\n", "r1.cfg:2:8: group \"7\" is not one of 1, 2, 5, 14, 15, 16, 19, 20, 21, 24\n     2 |  group 7\n       |        ^"},
		{"bad transform", "crypto ipsec transform-set T esp-aes 256 esp-sha-hmc\n", "r1.cfg:1:42: \"esp-sha-hmc\" is not a transform"},
		{"bad peer", "crypto map M 10 ipsec-isakmp\n set peer 2.2.2\n", "r1.cfg:2:11: \"2.2.2\" is not an IPv4 address"},
		{"wildcard", "access-list 100 permit ip 10.0.0.0 0.255.0.255 any\n", "r1.cfg:1:27: access list 100: an address"},
		{"encrypted key", "crypto isakmp key 6 XXXX address 1.1.1.1\n", "r1.cfg:1:19: an encrypted key (type 6) cannot be read"},
		{"no key", "crypto isakmp policy 10\n authentication pre-share\ncrypto ipsec transform-set T esp-aes\ncrypto map M 10 ipsec-isakmp\n set peer 2.2.2.2\n set transform-set T\n match address 100\ninterface Gi0/0\n ip address 1.1.1.1 255.255.255.0\n crypto map M\naccess-list 100 permit ip host 1.1.1.1 host 2.2.2.2\n",
			"r1.cfg:4:1: no crypto isakmp key for peer 2.2.2.2"},
		{"rsa-sig", "crypto isakmp policy 10\ncrypto ipsec transform-set T esp-aes\ncrypto map M 10 ipsec-isakmp\n set peer 2.2.2.2\n set transform-set T\n match address 100\ninterface Gi0/0\n ip address 1.1.1.1 255.255.255.0\n crypto map M\naccess-list 100 permit ip host 1.1.1.1 host 2.2.2.2\n",
			"r1.cfg:1:1: policy 10 authenticates with rsa-sig (IOS's default)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readIOS(t, c.text)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant it to start with:\n%s", err, c.want)
			}
		})
	}
}

// TestIKEv2AndNotes: an IKEv2 crypto map entry with its profile, keyring and proposal,
// and every command that has no equivalent as a note at its line.
func TestIKEv2AndNotes(t *testing.T) {
	n, err := readIOS(t, `hostname R1
service timestamps debug datetime msec
crypto ikev2 proposal P1
 encryption aes-cbc-256 aes-cbc-128
 integrity sha256
 group 14 19
crypto ikev2 policy POL
 proposal P1
crypto ikev2 keyring KR
 peer R2
  address 192.0.2.2
  pre-shared-key s3cret
crypto ikev2 profile PROF
 match identity remote fqdn r2.example
 identity local fqdn r1.example
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
 lifetime 3600
 dpd 10 2 on-demand
crypto ipsec transform-set T esp-gcm 256
 mode transport
crypto map M 10 ipsec-isakmp
 set peer 192.0.2.2
 set transform-set T
 set pfs group19
 set ikev2-profile PROF
 match address LANS
interface GigabitEthernet0/0
 ip address 192.0.2.1 255.255.255.0
 duplex auto
 crypto map M
ip access-list extended LANS
 10 permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.255.255
 20 permit tcp host 10.1.0.5 host 10.2.0.5 eq 22
router ospf 1
`)
	if err != nil {
		t.Fatal(err)
	}
	c := n.Conns["M"]
	if c == nil || c.Version != 2 || strings.Join(c.Proposals, " ") != "aes256-aes128-sha256-modp2048-ecp256" ||
		c.Local.ID != "r1.example" || c.Remote.ID != "r2.example" || c.RekeyTime.D().Seconds() != 3600 || c.DPDDelay.D().Seconds() != 10 ||
		len(c.Children) != 2 {
		t.Fatalf("connection %+v", c)
	}
	ch := c.Children["aclLANS-1"]
	if ch == nil || strings.Join(ch.ESPProposals, " ") != "aes256gcm16-ecp256" || ch.Mode != "transport" ||
		!slices.Equal(ch.LocalTS, []string{"10.1.0.0/24"}) || !slices.Equal(ch.RemoteTS, []string{"10.2.0.0/16"}) || ch.StartAction != "trigger" {
		t.Errorf("child %+v", ch)
	}
	if len(n.Secrets) != 1 || n.Secrets[0].Secret != "s3cret" || n.KeyOf["M"] != 0 {
		t.Errorf("secrets %+v, bound %v", n.Secrets, n.KeyOf)
	}
	want := map[int]string{
		2:  "service timestamps debug datetime msec: no equivalent",
		31: "duplex auto: no equivalent",
		35: "ikesim's selectors cover all protocols and ports",
		36: "router ospf 1: no equivalent",
	}
	for _, note := range n.Notes {
		if w, ok := want[note.Pos.Line]; ok && strings.Contains(note.Msg, w) {
			delete(want, note.Pos.Line)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing notes %v; notes %v", want, n.Notes)
	}
}

// FuzzRead: no input makes the reader panic.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/cisco-walkthrough/*.cfg")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("crypto ikev2 profile P\n match identity remote fqdn\n keyring local\ncrypto map M 1 ipsec-isakmp\n set ikev2-profile P\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := format{}.Read("R1", "r1.cfg", data)
		if err == nil && n == nil {
			t.Fatal("no node and no error")
		}
	})
}
