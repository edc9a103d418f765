// Package verify is the domain of credential checks: the professional
// registers a therapist may belong to, the evidence they submit, the
// verifier's decision, and the scheduled re-checks that take a profile out
// of search when its check lapses. "Verified" on Confide means a person
// looked the therapist up on their body's register and the check is
// current.
package verify

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

//go:embed registers.json
var defaultRegisters []byte

// Register is a professional body's public register.
type Register struct {
	Body        string `json:"body"`
	Name        string `json:"name"`
	RegisterURL string `json:"register_url"`
	// SearchURL, when set, is a link that opens the register at one
	// member; {number} is replaced by the membership number.
	SearchURL string `json:"search_url,omitempty"`
	Pattern   string `json:"pattern"`
	Hint      string `json:"hint"`
	re        *regexp.Regexp
}

// NormalizeNumber is how membership numbers are compared and stored:
// upper-case without spaces.
func NormalizeNumber(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// Valid reports whether number (normalised) fits the register's pattern.
func (r *Register) Valid(number string) bool { return r.re.MatchString(number) }

// Link is the address a verifier opens to check number.
func (r *Register) Link(number string) string {
	if r.SearchURL != "" {
		return strings.ReplaceAll(r.SearchURL, "{number}", number)
	}
	return r.RegisterURL
}

// Registers is the configured list, in display order.
type Registers struct {
	list []*Register
	by   map[string]*Register
}

// LoadRegisters parses a registers file (nil data means the defaults).
// known reports whether a body slug exists in the taxonomy, so that a
// register can never name a body profiles cannot hold.
func LoadRegisters(data []byte, known func(string) bool) (*Registers, error) {
	if data == nil {
		data = defaultRegisters
	}
	var f struct {
		Registers []*Register `json:"registers"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("registers: %w", err)
	}
	rs := &Registers{by: make(map[string]*Register)}
	for i, r := range f.Registers {
		if r.Body == "" || r.Name == "" || !strings.HasPrefix(r.RegisterURL, "https://") {
			return nil, fmt.Errorf("registers: entry %d needs body, name and an https register_url", i+1)
		}
		if known != nil && !known(r.Body) {
			return nil, fmt.Errorf("registers: body %q is not a professional body in the taxonomy", r.Body)
		}
		if rs.by[r.Body] != nil {
			return nil, fmt.Errorf("registers: body %q listed twice", r.Body)
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil || r.Pattern == "" {
			return nil, fmt.Errorf("registers: %s: bad pattern %q", r.Body, r.Pattern)
		}
		r.re = re
		rs.list = append(rs.list, r)
		rs.by[r.Body] = r
	}
	if len(rs.list) == 0 {
		return nil, fmt.Errorf("registers: the list is empty")
	}
	return rs, nil
}

// All returns the registers in display order.
func (rs *Registers) All() []*Register { return rs.list }

// Get returns the register of a body.
func (rs *Registers) Get(body string) (*Register, bool) {
	r, ok := rs.by[body]
	return r, ok
}
