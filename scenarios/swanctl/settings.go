package swanctl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// The syntax of swanctl.conf, which is strongswan.conf's (libstrongswan's settings
// parser): sections "name { ... }", settings "key = value" to the end of the line,
// values of several words joined by one space, "quoted strings" with \n, \t and \" and
// lines joined by a backslash, comments from #, "include PATTERN" (a glob, relative to
// the file that includes it, read where it stands), and "name : other.section { ... }"
// to inherit another section's settings. A section named twice is one section; a key
// set twice keeps its last value.

// section is one section of the tree, with its settings and subsections in order.
type section struct {
	name string
	pos  config.Pos
	refs []ref
	keys []*setting
	subs []*section
	used bool
}

type ref struct {
	path string
	pos  config.Pos
}

// setting is one key = value.
type setting struct {
	key, value string
	pos        config.Pos // of the key
	used       bool
}

// sub is the subsection of that name, or nil; it marks the section used.
func (s *section) sub(name string) *section {
	for _, c := range s.subs {
		if c.name == name {
			c.used = true
			return c
		}
	}
	return nil
}

// get is the setting of that key, or nil; it marks the setting used.
func (s *section) get(key string) *setting {
	for i := len(s.keys) - 1; i >= 0; i-- {
		if s.keys[i].key == key {
			s.keys[i].used = true
			return s.keys[i]
		}
	}
	return nil
}

// unused lists the settings and sections below s nobody read, each once, by position.
func (s *section) unused(prefix string, out *[]unusedItem, seen map[any]bool) {
	for _, k := range s.keys {
		if !k.used && !seen[k] && !overridden(s, k) {
			seen[k] = true
			*out = append(*out, unusedItem{pos: k.pos, what: prefix + k.key + " = " + k.value})
		}
	}
	for _, c := range s.subs {
		if seen[c] {
			continue
		}
		seen[c] = true
		if !c.used {
			*out = append(*out, unusedItem{pos: c.pos, what: prefix + c.name + " { ... }"})
			continue
		}
		c.unused(prefix+c.name+".", out, seen)
	}
}

// overridden reports whether a later setting of the same key replaced k.
func overridden(s *section, k *setting) bool {
	for i := len(s.keys) - 1; i >= 0; i-- {
		if s.keys[i].key == k.key {
			return s.keys[i] != k
		}
	}
	return false
}

type unusedItem struct {
	pos  config.Pos
	what string
}

// parser reads one file of the tree; included files get parsers of their own.
type parser struct {
	path    string
	src     []rune
	sources sources
	i       int
	line    int
	col     int
	depth   int // include depth
}

// Bounds on what include may read: nesting, files in all, the size of each.
const (
	maxIncludeDepth = 10
	maxFiles        = 100
	maxFileSize     = 1 << 20
)

// sources are the lines of every file read, for the source line of an error.
type sources map[string][]string

// errorAt is an error at pos, with its source line.
func (s sources) errorAt(pos config.Pos, format string, args ...any) *scenarios.Error {
	e := &scenarios.Error{File: pos.File, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
	if lines := s[pos.File]; pos.Line > 0 && pos.Line <= len(lines) {
		e.Source = lines[pos.Line-1]
	}
	return e
}

// parse reads a swanctl.conf and the files it includes into one tree.
func parse(path string, data []byte) (*section, sources, error) {
	root := &section{name: "", used: true}
	src := sources{}
	if err := parseInto(root, path, data, 0, src); err != nil {
		return nil, src, err
	}
	if err := resolveRefs(root, root, 0, src); err != nil {
		return nil, src, err
	}
	return root, src, nil
}

func parseInto(sec *section, path string, data []byte, depth int, src sources) error {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	src[path] = strings.Split(text, "\n")
	p := &parser{path: path, src: []rune(text), sources: src, line: 1, col: 1, depth: depth}
	return p.statements(sec, true)
}

func (p *parser) pos() config.Pos { return config.Pos{File: p.path, Line: p.line, Col: p.col} }

func (p *parser) errorf(pos config.Pos, format string, args ...any) error {
	return scenarios.ErrorList{p.sources.errorAt(pos, format, args...)}
}

func (p *parser) peek() rune {
	if p.i >= len(p.src) {
		return 0
	}
	return p.src[p.i]
}

func (p *parser) next() rune {
	r := p.src[p.i]
	p.i++
	if r == '\n' {
		p.line++
		p.col = 1
	} else {
		p.col++
	}
	return r
}

func (p *parser) eof() bool { return p.i >= len(p.src) }

// skip passes over blanks, newlines and comments.
func (p *parser) skip() {
	for !p.eof() {
		switch r := p.peek(); {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			p.next()
		case r == '#':
			for !p.eof() && p.peek() != '\n' {
				p.next()
			}
		default:
			return
		}
	}
}

// skipBlanks passes over spaces and tabs only.
func (p *parser) skipBlanks() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == '\r') {
		p.next()
	}
}

func isNameRune(r rune) bool {
	return r != 0 && !strings.ContainsRune("#{}:.,=\"\r\n\t ", r)
}

func (p *parser) name() string {
	var b strings.Builder
	for !p.eof() && isNameRune(p.peek()) {
		b.WriteRune(p.next())
	}
	return b.String()
}

// statements reads settings and sections until a closing brace (or the end of the
// file at the top level).
func (p *parser) statements(sec *section, top bool) error {
	for {
		p.skip()
		if p.eof() {
			if !top {
				return p.errorf(p.pos(), "section %q is not closed: a '}' is missing", sec.name)
			}
			return nil
		}
		at := p.pos()
		switch r := p.peek(); r {
		case '}':
			if top {
				return p.errorf(at, "'}' closes no section")
			}
			p.next()
			return nil
		case '{', '=', ':', ',', '.':
			return p.errorf(at, "%q here: a setting (key = value) or a section (name { ... }) starts with a name", string(r))
		case '"':
			return p.errorf(at, "a quoted string here: only values are quoted (key = \"value\")")
		}
		name := p.name()
		if name == "include" && (p.peek() == ' ' || p.peek() == '\t') {
			p.skipBlanks()
			if p.peek() != '=' {
				if err := p.include(sec, at); err != nil {
					return err
				}
				continue
			}
		}
		p.skip()
		switch r := p.peek(); r {
		case '=':
			p.next()
			v, err := p.value()
			if err != nil {
				return err
			}
			sec.keys = append(sec.keys, &setting{key: name, value: v, pos: at})
		case '{', ':':
			var refs []ref
			if r == ':' {
				p.next()
				var err error
				if refs, err = p.references(); err != nil {
					return err
				}
				p.skip()
				if p.peek() != '{' {
					return p.errorf(p.pos(), "'{' expected after the sections %q inherits from", name)
				}
			}
			p.next()
			child := sec.sub(name)
			if child == nil {
				child = &section{name: name, pos: at}
				sec.subs = append(sec.subs, child)
			}
			child.used = false
			child.refs = append(child.refs, refs...)
			if err := p.statements(child, false); err != nil {
				return err
			}
		case '.':
			return p.errorf(p.pos(), "%q: a dotted name is strongswan.conf's command line, not its files: write nested sections", name)
		default:
			return p.errorf(p.pos(), "after %q: '=' (a setting) or '{' (a section) expected", name)
		}
	}
}

// value reads the rest of a setting's line: words joined by one space, quoted strings
// as they are.
func (p *parser) value() (string, error) {
	var parts []string
	for {
		p.skipBlanks()
		switch r := p.peek(); {
		case p.eof() || r == '\n' || r == '#' || r == '}':
			return strings.Join(parts, " "), nil
		case r == '"':
			s, err := p.quoted()
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		default:
			var b strings.Builder
			for !p.eof() && !strings.ContainsRune("#}\"\r\n\t ", p.peek()) {
				b.WriteRune(p.next())
			}
			parts = append(parts, b.String())
		}
	}
}

// quoted reads a "string" with its escapes.
func (p *parser) quoted() (string, error) {
	at := p.pos()
	p.next()
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf(at, "this string has no closing '\"'")
		}
		r := p.next()
		switch r {
		case '"':
			return b.String(), nil
		case '\r':
		case '\\':
			if p.eof() {
				return "", p.errorf(at, "this string has no closing '\"'")
			}
			switch e := p.next(); e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\n':
			default:
				b.WriteRune(e)
			}
		default:
			b.WriteRune(r)
		}
	}
}

// references reads "a.b, c" after a colon.
func (p *parser) references() ([]ref, error) {
	var refs []ref
	for {
		p.skipBlanks()
		at := p.pos()
		var b strings.Builder
		for !p.eof() && (isNameRune(p.peek()) || p.peek() == '.') {
			b.WriteRune(p.next())
		}
		if b.Len() == 0 {
			return nil, p.errorf(at, "the name of a section to inherit from expected (e.g. connections.base)")
		}
		refs = append(refs, ref{path: b.String(), pos: at})
		p.skipBlanks()
		if p.peek() != ',' {
			return refs, nil
		}
		p.next()
	}
}

// include reads the files a pattern names, sorted, into sec.
func (p *parser) include(sec *section, at config.Pos) error {
	var b strings.Builder
	for !p.eof() && !strings.ContainsRune("#}\n\t ", p.peek()) {
		switch r := p.peek(); r {
		case '"':
			s, err := p.quoted()
			if err != nil {
				return err
			}
			b.WriteString(s)
		case '\\':
			p.next()
			if !p.eof() && strings.ContainsRune("\"#} ", p.peek()) {
				b.WriteRune(p.next())
			} else {
				b.WriteRune('\\')
			}
		case '\r':
			p.next()
		default:
			b.WriteRune(p.next())
		}
	}
	pattern := b.String()
	if pattern == "" {
		return p.errorf(at, "include needs a file or a pattern")
	}
	if p.depth >= maxIncludeDepth {
		return p.errorf(at, "include %s: more than %d levels of include (a loop?)", pattern, maxIncludeDepth)
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(p.path), pattern)
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		return p.errorf(at, "include %s: %v", pattern, err)
	}
	sort.Strings(files)
	if len(files) == 0 && !strings.ContainsAny(pattern, "*?[") {
		return p.errorf(at, "include %s: no such file", pattern)
	}
	for _, f := range files {
		if len(p.sources) >= maxFiles {
			return p.errorf(at, "include %s: more than %d files in all", pattern, maxFiles)
		}
		fi, err := os.Stat(f)
		switch {
		case err != nil:
			return p.errorf(at, "include: %v", err)
		case fi.IsDir():
			continue // strongSwan skips directories a pattern matches
		case !fi.Mode().IsRegular() || fi.Size() > maxFileSize:
			return p.errorf(at, "include %s: not a regular file of at most %d bytes", f, maxFileSize)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return p.errorf(at, "include: %v", err)
		}
		if err := parseInto(sec, f, data, p.depth+1, p.sources); err != nil {
			return err
		}
	}
	return nil
}

// resolveRefs gives every section that inherits the settings and subsections of the
// sections it names (paths from the top, "connections.base") that it lacks.
func resolveRefs(root, s *section, depth int, src sources) error {
	if depth > 32 {
		return fmt.Errorf("swanctl: sections inherit from each other in a loop")
	}
	for _, r := range s.refs {
		base := root
		for _, part := range strings.Split(r.path, ".") {
			if base = findSub(base, part); base == nil {
				return scenarios.ErrorList{src.errorAt(r.pos, "section %q to inherit from does not exist", r.path)}
			}
		}
		if base == s {
			continue
		}
		if err := resolveRefs(root, base, depth+1, src); err != nil {
			return err
		}
		inherit(s, base)
	}
	s.refs = nil
	for _, c := range s.subs {
		if err := resolveRefs(root, c, depth+1, src); err != nil {
			return err
		}
	}
	return nil
}

func findSub(s *section, name string) *section {
	for _, c := range s.subs {
		if c.name == name {
			return c
		}
	}
	return nil
}

// inherit adds to s what base has and s does not. Settings are shared, so reading an
// inherited one counts as reading the template's line.
func inherit(s, base *section) {
	for _, k := range base.keys {
		has := false
		for _, o := range s.keys {
			has = has || o.key == k.key
		}
		if !has {
			s.keys = append([]*setting{k}, s.keys...)
		}
	}
	for _, c := range base.subs {
		if own := findSub(s, c.name); own != nil {
			inherit(own, c)
			continue
		}
		s.subs = append(s.subs, c)
	}
}
