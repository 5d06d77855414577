package assets

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed explain/*.txt web/*
var files embed.FS

// An Explanation says in one line what a part of a message, or a kind of message, is
// for, with the RFC section that says so.
type Explanation struct {
	// Scope is the protocol whose fields the entry explains: "ikev2", "ikev1", "esp" or
	// "ip" (fields.txt's [section]); empty for steps.
	Scope string `json:"scope,omitempty"`
	Key   string `json:"key"`             // the field's name ("Nonce", "IKE Header > Message ID", "Notify: REKEY_SA") or the step
	Short string `json:"short,omitempty"` // the RFC's short name ("Ni, Nr", "IDi"), if it has one
	Ref   string `json:"ref"`             // "RFC 7296, Section 3.9"
	Text  string `json:"text"`
}

var (
	fieldsOnce = sync.OnceValues(func() ([]Explanation, error) { return parse("explain/fields.txt", 4) })
	stepsOnce  = sync.OnceValues(func() ([]Explanation, error) { return parse("explain/steps.txt", 3) })
)

// Fields returns the explanations of message fields, in file order.
func Fields() ([]Explanation, error) { return fieldsOnce() }

// Steps returns the explanations of kinds of messages (the diagram's notes), in file
// order, keyed by step ("IKE_SA_INIT request", "ESP").
func Steps() ([]Explanation, error) { return stepsOnce() }

// Step returns the explanation of one kind of message.
func Step(key string) (Explanation, bool) {
	steps, err := Steps()
	if err != nil {
		return Explanation{}, false
	}
	for _, s := range steps {
		if s.Key == key {
			return s, true
		}
	}
	return Explanation{}, false
}

// Web returns a file of the HTML view ("view.css", "view.js").
func Web(name string) ([]byte, error) {
	b, err := files.ReadFile("web/" + name)
	if err != nil {
		return nil, fmt.Errorf("assets: no web file %q", name)
	}
	return b, nil
}

// Scopes are the sections of fields.txt: the protocols whose fields it explains.
var Scopes = []string{"ikev2", "ikev1", "esp", "ip"}

// parse reads a file of "a | b | c" lines with n columns; # starts a comment line and
// a line "[scope]" starts a section whose entries explain that protocol's fields.
func parse(name string, n int) ([]Explanation, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("assets: %v", err)
	}
	var out []Explanation
	scope := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			scope = s[1 : len(s)-1]
			if !slices.Contains(Scopes, scope) {
				return nil, fmt.Errorf("assets: %s:%d: unknown section %q", name, line, s)
			}
			continue
		}
		col := strings.Split(s, "|")
		if len(col) != n {
			return nil, fmt.Errorf("assets: %s:%d: %d columns, want %d", name, line, len(col), n)
		}
		for i := range col {
			col[i] = strings.TrimSpace(col[i])
		}
		e := Explanation{Scope: scope, Key: col[0], Ref: col[n-2], Text: col[n-1]}
		if n == 4 {
			e.Short = col[1]
		}
		if e.Key == "" || e.Ref == "" || e.Text == "" {
			return nil, fmt.Errorf("assets: %s:%d: empty column", name, line)
		}
		out = append(out, e)
	}
	return out, nil
}
