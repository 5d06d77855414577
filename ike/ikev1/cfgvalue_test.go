package ikev1

import "testing"

// TestCfgValue: Mode Config and XAUTH attribute values as their type says: addresses for
// address attributes, strings for XAUTH strings whatever their length, numbers for the
// basic ones.
func TestCfgValue(t *testing.T) {
	for _, tt := range []struct {
		a    Attribute
		want string
	}{
		{Attribute{Type: XAuthUserPassword, Value: []byte("iklab-interop-ps")}, "iklab-interop-ps"}, // 16 bytes
		{Attribute{Type: XAuthUserName, Value: []byte("dave")}, "dave"},                             // 4 bytes
		{Attribute{Type: XAuthPasscode, Value: []byte{0, 1, 2, 3}}, "00010203"},
		{Attribute{Type: XAuthMessage, Value: []byte("Enter PIN")}, "Enter PIN"},
		{Attribute{Type: CfgInternalIP4Address, Value: []byte{10, 3, 0, 1}}, "10.3.0.1"},
		{Attribute{Type: CfgInternalIP6Address, Value: []byte{0x20, 1, 0xd, 0xb8, 15: 1}}, "2001:db8::1"},
		{Attribute{Type: XAuthStatus, Value: []byte{0, 1}}, "1"},
		{Attribute{Type: XAuthUserName}, ""},
	} {
		if got := cfgValue(tt.a); got != tt.want {
			t.Errorf("%s %x: %q, want %q", cfgAttrNames[tt.a.Type], tt.a.Value, got, tt.want)
		}
	}
}
