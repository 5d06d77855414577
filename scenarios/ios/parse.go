package ios

import (
	"fmt"
	"strings"

	"github.com/ikesim/ikesim/scenarios"
	"github.com/ikesim/ikesim/scenarios/config"
)

// The shape of an IOS configuration: one command per line, a sub-mode's commands
// indented below the command that opens it ("crypto isakmp policy 10", then
// " authentication pre-share"), "!" lines as separators and comments.

// line is one command with its words and where each word starts.
type line struct {
	words []string
	cols  []int // 1-based column of each word
	pos   config.Pos
	text  string
	subs  []*line // the indented commands of its sub-mode
	used  bool
}

// word is the i-th word, or "".
func (l *line) word(i int) string {
	if i < len(l.words) {
		return l.words[i]
	}
	return ""
}

// at is the position of the i-th word (or the end of the line).
func (l *line) at(i int) config.Pos {
	p := l.pos
	if i < len(l.cols) {
		p.Col = l.cols[i]
	} else {
		p.Col = len(l.text) + 1
	}
	return p
}

// is reports whether the line starts with these words (IOS keywords: case-insensitive).
func (l *line) is(words ...string) bool {
	if len(l.words) < len(words) {
		return false
	}
	for i, w := range words {
		if !strings.EqualFold(l.words[i], w) {
			return false
		}
	}
	return true
}

// parseLines reads a configuration into its top-level commands with their sub-modes.
func parseLines(path string, data []byte) []*line {
	var top []*line
	var stack []*line // open commands by indentation
	var indents []int
	for i, raw := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		text := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimLeft(text, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "!") {
			if trimmed != "" && len(text) == len(trimmed) {
				stack, indents = nil, nil // a "!" at the left margin ends every sub-mode
			}
			continue
		}
		indent := len(text) - len(trimmed)
		l := &line{pos: config.Pos{File: path, Line: i + 1, Col: indent + 1}, text: text}
		col := indent
		for _, w := range strings.Fields(trimmed) {
			idx := strings.Index(text[col:], w)
			l.words = append(l.words, w)
			l.cols = append(l.cols, col+idx+1)
			col += idx + len(w)
		}
		if l.is("exit") || l.is("end") && indent == 0 {
			l.used = true
			if len(stack) > 0 && l.is("exit") {
				stack, indents = stack[:len(stack)-1], indents[:len(indents)-1]
			}
			continue
		}
		for len(stack) > 0 && indents[len(indents)-1] >= indent {
			stack, indents = stack[:len(stack)-1], indents[:len(indents)-1]
		}
		if len(stack) == 0 {
			top = append(top, l)
		} else {
			parent := stack[len(stack)-1]
			parent.subs = append(parent.subs, l)
		}
		stack, indents = append(stack, l), append(indents, indent)
	}
	return top
}

// errorAt is a scenarios.Error at a word of a line, with the source line.
func errorAt(l *line, i int, format string, args ...any) *scenarios.Error {
	p := l.at(i)
	return &scenarios.Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...), Source: l.text}
}

// unused lists the commands nobody read, sub-mode commands of read ones included.
func unused(ls []*line, out *[]*line) {
	for _, l := range ls {
		if !l.used {
			*out = append(*out, l)
			continue
		}
		unused(l.subs, out)
	}
}
