package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A small YAML writer for the scenario files Import makes: block mappings, flow lists
// of scalars, and a comment at the end of a line that says where the value came from.
// (A YAML library would write the values but not the comments where they belong.)

type yamlWriter struct {
	b bytes.Buffer
}

// commentColumn is where end-of-line comments start when the line is shorter.
const commentColumn = 50

// line writes one line at an indentation level (two spaces each) with an optional
// comment.
func (w *yamlWriter) line(indent int, text, comment string) {
	s := strings.Repeat("  ", indent) + text
	if comment != "" {
		if pad := commentColumn - len(s); pad > 0 {
			s += strings.Repeat(" ", pad)
		} else {
			s += "  "
		}
		s += "# " + comment
	}
	w.b.WriteString(strings.TrimRight(s, " ") + "\n")
}

// comment writes whole comment lines at an indentation level.
func (w *yamlWriter) comment(indent int, text string) {
	for _, l := range strings.Split(text, "\n") {
		w.line(indent, strings.TrimRight("# "+l, " "), "")
	}
}

// kv writes "key: value".
func (w *yamlWriter) kv(indent int, key, value, comment string) {
	w.line(indent, scalar(key)+": "+value, comment)
}

// plain matches scalars that YAML reads back as the same string without quotes.
var plain = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./@+=-]*$`)

// special are plain scalars YAML would read as something other than a string.
var special = regexp.MustCompile(`(?i)^(y|n|yes|no|true|false|on|off|null|~|[-+]?[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$`)

// scalar writes a string so that YAML reads it back unchanged: plain when that is
// safe, else double-quoted (JSON's string syntax is YAML's double-quoted style).
func scalar(s string) string {
	// Any colon is quoted: in a flow list an IPv6 address's "::" reads as a mapping.
	if plain.MatchString(s) && !special.MatchString(s) && !strings.Contains(s, ":") {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSpace(b.String())
}

// flow writes a list of strings as [a, b].
func flow(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = scalar(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// inline writes a flow mapping {k: v, ...} from key/value pairs, the values written
// already.
func inline(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			parts = append(parts, scalar(pairs[i])+": "+pairs[i+1])
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// duration writes a duration the way a person would: 4h, 30m, 2s, 1.5s.
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// yesno writes a scenario boolean.
func yesno(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
