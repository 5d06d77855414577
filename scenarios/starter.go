package scenarios

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
)

//go:embed templates/starter.yaml
var templatesFS embed.FS

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Starter returns a commented starter scenario named name, for a teacher to edit.
func Starter(name string) ([]byte, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("scenario: %q is not a usable name (letters, digits, '.', '_' and '-')", name)
	}
	data, err := templatesFS.ReadFile("templates/starter.yaml")
	if err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(string(data), "NAME", name)), nil
}
