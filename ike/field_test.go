package ike

import "testing"

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
