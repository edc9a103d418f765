// Package hsdstest validates documents against Open Referral's official
// HSDS 3.0 schemas (in ../testdata/schema, unchanged), for the tests of
// the HSDS API and of the HSDS data package export: both must produce
// what the specification defines, not what this project believes it
// defines.
package hsdstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Base is the address every schema file is loaded under, by its own
// name, so that the schemas' relative $refs ("phone.json") resolve to
// the copies beside them.
const Base = "file:///hsds/"

// Set is the compiled schemas.
type Set struct {
	dir      string
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
	// Raw holds each schema file as parsed JSON, by file name.
	Raw map[string]map[string]any
}

// Dir is the folder holding the schema files.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "schema")
}

// Load reads every schema file and the OpenAPI description's Page schema
// (as page.json) into one compiler, asserting formats (uuid, uri, email,
// date-time) as well as structure.
func Load(t testing.TB) *Set {
	t.Helper()
	s := &Set{dir: Dir(), compiler: jsonschema.NewCompiler(), compiled: map[string]*jsonschema.Schema{}, Raw: map[string]map[string]any{}}
	s.compiler.DefaultDraft(jsonschema.Draft2020)
	s.compiler.AssertFormat()
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no HSDS schemas in %s: %v", s.dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(f)
		if err := s.compiler.AddResource(Base+name, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		s.Raw[name] = raw
	}
	// The API's Page object and root document are defined inside the
	// OpenAPI description; add them as documents of their own.
	api := s.Raw["openapi.json"]
	page := dig(api, "components", "schemas", "Page")
	root := dig(api, "paths", "/", "get", "responses", "200", "content", "application/json", "schema")
	if page == nil || root == nil {
		t.Fatal("openapi.json has no Page schema or root document schema")
	}
	for name, doc := range map[string]any{"page.json": page, "root.json": root} {
		if err := s.compiler.AddResource(Base+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func (s *Set) schema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.compiled[name]; ok {
		return sc
	}
	url := Base + name
	if items, ok := strings.CutPrefix(name, "page:"); ok {
		// A Page whose contents are items of another schema, as the
		// OpenAPI description composes them; every Page field required.
		url = Base + "pages/" + items
		doc := map[string]any{
			"allOf":    []any{map[string]any{"$ref": Base + "page.json"}},
			"required": []any{"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"},
			"properties": map[string]any{
				"contents": map[string]any{"type": "array", "items": map[string]any{"$ref": Base + items}},
			},
		}
		if err := s.compiler.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := s.compiler.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	s.compiled[name] = sc
	return sc
}

// Validate checks raw JSON against the schema file name, or, for
// "page:NAME", against a Page of NAME items.
func (s *Set) Validate(t testing.TB, name string, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.schema(t, name).Validate(inst)
}

// ValidateValue checks an already decoded value (numbers as float64 or
// json.Number) against the schema file name.
func (s *Set) ValidateValue(t testing.TB, name string, v any) error {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Validate(t, name, b)
}
