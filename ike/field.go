package ike

import "fmt"

// A Field is one node of a dissection tree: a named piece of a message with its value,
// where its bytes are, and what it is for.
//
// Offset and Length index the nearest enclosing byte space: the message's own bytes, or,
// below a field whose Plain is set (a decrypted payload), those plaintext bytes.
type Field struct {
	Name     string   `json:"name"`
	Value    string   `json:"value,omitempty"`
	Offset   int      `json:"offset"`
	Length   int      `json:"length"`
	Explain  string   `json:"explain,omitempty"`
	Children []*Field `json:"children,omitempty"`
	// Plain holds the decrypted bytes of an encrypted payload as the receiver saw them;
	// the offsets of Children then index Plain, not the message.
	Plain []byte `json:"plain,omitempty"`
	// Error says why this part could not be read (truncated, undecryptable); the
	// dissection stops below such a field but keeps everything read before it.
	Error string `json:"error,omitempty"`
}

// Add appends a child and returns it, so that callers can chain deeper levels.
func (f *Field) Add(name, value string, offset, length int) *Field {
	c := &Field{Name: name, Value: value, Offset: offset, Length: length}
	f.Children = append(f.Children, c)
	return c
}

// Find returns the first field named name in a depth-first walk of f, or nil.
func (f *Field) Find(name string) *Field {
	if f == nil {
		return nil
	}
	if f.Name == name {
		return f
	}
	for _, c := range f.Children {
		if r := c.Find(name); r != nil {
			return r
		}
	}
	return nil
}

// Walk calls fn for f and every field below it, depth first, with the depth of each.
func (f *Field) Walk(fn func(f *Field, depth int)) {
	var walk func(*Field, int)
	walk = func(g *Field, d int) {
		fn(g, d)
		for _, c := range g.Children {
			walk(c, d+1)
		}
	}
	if f != nil {
		walk(f, 0)
	}
}

// AddExplained appends a child with the line that says what it is for, and returns it.
func (f *Field) AddExplained(name, value string, offset, length int, explain string) *Field {
	c := f.Add(name, value, offset, length)
	c.Explain = explain
	return c
}

// CheckLength compares the Length a message header announces with the n bytes at hand
// (RFC 2408, Section 3.1; RFC 7296, Section 3.1, the same header): it returns where the
// message ends, and says on f what does not match. ok is false when the message ends
// inside a header of headerLen bytes, so that no payload can be read.
func (f *Field) CheckLength(announced uint32, n, headerLen int) (end int, ok bool) {
	end = n
	switch {
	case int64(announced) > int64(n):
		f.Error = fmt.Sprintf("truncated: the header announces %d bytes, %d are here", announced, n)
	case int64(announced) < int64(n):
		end = int(announced)
		f.Error = fmt.Sprintf("%d bytes follow the %d the header announces", n-end, announced)
		if end < headerLen {
			return end, false
		}
	}
	return end, true
}

// OutOfBounds reports the first field of the tree at f that reaches outside its byte
// space: the space bytes f indexes, or below a field whose Plain is set, those.
func (f *Field) OutOfBounds(space int) error {
	if f.Offset < 0 || f.Length < 0 || f.Offset+f.Length > space {
		return fmt.Errorf("ike: field %q at %d+%d lies outside its %d bytes", f.Name, f.Offset, f.Length, space)
	}
	inner := space
	if f.Plain != nil {
		inner = len(f.Plain)
	}
	for _, c := range f.Children {
		if err := c.OutOfBounds(inner); err != nil {
			return err
		}
	}
	return nil
}
