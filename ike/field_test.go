package ike

import (
	"strings"
	"testing"
)

func TestCheckLength(t *testing.T) {
	for _, tc := range []struct {
		announced uint32
		n         int
		end       int
		ok        bool
		err       string
	}{
		{40, 40, 40, true, ""},
		{60, 40, 40, true, "truncated: the header announces 60 bytes, 40 are here"},
		{32, 40, 32, true, "8 bytes follow the 32 the header announces"},
		{20, 40, 20, false, "20 bytes follow the 20 the header announces"},
	} {
		f := &Field{}
		end, ok := f.CheckLength(tc.announced, tc.n, 28)
		if end != tc.end || ok != tc.ok || f.Error != tc.err {
			t.Errorf("CheckLength(%d, %d) = %d, %v, %q; want %d, %v, %q", tc.announced, tc.n, end, ok, f.Error, tc.end, tc.ok, tc.err)
		}
	}
}

func TestOutOfBounds(t *testing.T) {
	plain := &Field{Name: "Decrypted payloads", Offset: 8, Length: 8, Plain: make([]byte, 4)}
	root := &Field{Name: "message", Length: 16, Children: []*Field{{Name: "header", Length: 8}, plain}}
	if err := root.OutOfBounds(16); err != nil {
		t.Errorf("a tree inside its bytes: %v", err)
	}
	plain.Children = []*Field{{Name: "Nonce", Offset: 2, Length: 3}} // 5 of the 4 plaintext bytes
	if err := root.OutOfBounds(16); err == nil || !strings.Contains(err.Error(), `"Nonce" at 2+3 lies outside its 4 bytes`) {
		t.Errorf("a field past the plaintext: %v", err)
	}
	if err := root.OutOfBounds(12); err == nil {
		t.Error("a message longer than its bytes passes")
	}
}
