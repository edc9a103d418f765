// Package importer brings a register of therapists (a professional body's
// member list, a charity's spreadsheet) into the directory. It reads CSV
// or JSON lines, checks every row as the profile form would and reports
// each problem with its line, column and reason, then plans what would be
// created, updated or left alone, keyed by (register body, membership
// number) so that importing the same file twice changes nothing. Imported
// profiles are unpublished and unverified: they become public only after
// the therapist claims them and a verifier checks them.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBytes bounds an import file: a register of 100,000 members is about
// 30 MB of CSV, and reading is all in memory.
const MaxBytes = 32 << 20

// Columns are the fields a row may carry, in the order docs/import.md
// lists them. Required ones are marked in Required.
var Columns = []string{"name", "email", "body", "membership_number", "level", "postcode", "formats", "approaches", "issues",
	"client_groups", "languages", "fee_min", "fee_max", "concessions", "headline", "gender"}

// Required are the columns a row cannot do without.
var Required = []string{"name", "email", "body", "membership_number", "approaches"}

// Schema names the columns one kind of file may carry and those it must.
// Every kind is read the same way (Read), so a register of therapists and
// a body's member list fail in the same words for the same mistakes.
type Schema struct {
	Columns, Required []string
}

// Therapists is the schema of `confide import therapists`.
var Therapists = Schema{Columns: Columns, Required: Required}

// Row is one record of the file: its line (the header is line 1 of a CSV)
// and its cells by column name.
type Row struct {
	Line   int
	Fields map[string]string
}

// Problem is what is wrong with one row (or, with Line 0, the file).
type Problem struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	switch {
	case p.Line == 0:
		return p.Reason
	case p.Column == "":
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d, %s: %s", p.Line, p.Column, p.Reason)
}

// FileError is a file that cannot be read as rows at all: nothing from
// it is imported.
type FileError struct{ Reason string }

func (e *FileError) Error() string { return e.Reason }

// Read reads every row of r as format ("csv" or "jsonl") with the
// Therapists schema.
func Read(r io.Reader, format string) ([]Row, []Problem, error) {
	return ReadAs(r, format, Therapists)
}

// ReadAs reads every row of r as format ("csv" or "jsonl") with the
// columns of schema. A row that is not valid UTF-8 or not well formed is
// reported as a problem and left out; a file that is too big, empty, or
// not in the format at all (a spreadsheet saved with semicolons, say), or
// whose header lacks a required column or names an unknown one, is a
// *FileError.
func ReadAs(r io.Reader, format string, schema Schema) ([]Row, []Problem, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the file: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, nil, &FileError{fmt.Sprintf("the file is larger than %d MB: split it into several files", MaxBytes>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from spreadsheet programs
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &FileError{"the file is empty"}
	}
	switch format {
	case "csv":
		return readCSV(data, schema)
	case "jsonl":
		return readJSONL(data, schema)
	}
	return nil, nil, &FileError{fmt.Sprintf("unknown format %q: use csv or jsonl", format)}
}

// lines splits data into its lines (numbered from 1), without their ends.
func lines(data []byte) [][]byte {
	out := bytes.Split(data, []byte("\n"))
	for i, l := range out {
		out[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return out
}

func readCSV(data []byte, schema Schema) ([]Row, []Problem, error) {
	all := lines(data)
	header, err := csv.NewReader(bytes.NewReader(all[0])).Read()
	if err != nil || !utf8.Valid(all[0]) {
		return nil, nil, &FileError{"line 1: the header is not a comma-separated list of column names"}
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	if len(header) == 1 {
		for _, sep := range []struct{ char, name string }{{";", "semicolons"}, {"\t", "tabs"}, {"|", "vertical bars"}} {
			if strings.Contains(header[0], sep.char) {
				return nil, nil, &FileError{fmt.Sprintf("line 1: the columns are separated by %s; save the file as comma-separated values (CSV)", sep.name)}
			}
		}
	}
	if err := checkHeader(header, schema); err != nil {
		return nil, nil, err
	}
	var rows []Row
	var problems []Problem
	// Each record is parsed on its own, so that one broken line (an
	// unclosed quote, bad bytes) costs that row only. A quoted cell may
	// hold a line break: such a record spans several lines.
	for i := 1; i < len(all); i++ {
		start := i
		rec := all[i]
		for strings.Count(string(rec), `"`)%2 == 1 && i+1 < len(all) && i+1-start < 20 {
			i++
			rec = append(append(slices.Clone(rec), '\n'), all[i]...)
		}
		if len(bytes.TrimSpace(rec)) == 0 {
			continue
		}
		line := start + 1
		if !utf8.Valid(rec) {
			problems = append(problems, Problem{Line: line, Reason: "not UTF-8 text: save the file with UTF-8 encoding"})
			continue
		}
		cr := csv.NewReader(bytes.NewReader(rec))
		cr.FieldsPerRecord = len(header)
		cells, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			reason := "this line is not well-formed CSV"
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				reason = fmt.Sprintf("this line has %d cells where the header has %d columns", len(cells), len(header))
			}
			problems = append(problems, Problem{Line: line, Reason: reason})
			continue
		}
		f := make(map[string]string, len(header))
		for j, c := range cells {
			f[header[j]] = strings.TrimSpace(c)
		}
		rows = append(rows, Row{Line: line, Fields: f})
	}
	return rows, problems, nil
}

func readJSONL(data []byte, schema Schema) ([]Row, []Problem, error) {
	var rows []Row
	var problems []Problem
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxBytes)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			problems = append(problems, Problem{Line: line, Reason: "not UTF-8 text: save the file with UTF-8 encoding"})
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			problems = append(problems, Problem{Line: line, Reason: "not a JSON object"})
			continue
		}
		f := make(map[string]string, len(obj))
		ok := true
		for k, v := range obj {
			k = strings.ToLower(strings.TrimSpace(k))
			if !slices.Contains(schema.Columns, k) {
				problems = append(problems, Problem{Line: line, Column: k, Reason: "unknown column (see docs/import.md)"})
				ok = false
				continue
			}
			switch x := v.(type) {
			case string:
				f[k] = strings.TrimSpace(x)
			case float64:
				// Plain digits: fmt's %v would write 7000000 as 7e+06.
				f[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				f[k] = strconv.FormatBool(x)
			case []any:
				var parts []string
				for _, p := range x {
					parts = append(parts, fmt.Sprint(p))
				}
				f[k] = strings.Join(parts, ";")
			case nil:
			default:
				problems = append(problems, Problem{Line: line, Column: k, Reason: "must be text, a number, true/false or a list"})
				ok = false
			}
		}
		if ok {
			rows = append(rows, Row{Line: line, Fields: f})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, &FileError{"a line is too long to be a record"}
	}
	return rows, problems, nil
}

// checkHeader refuses a header without the required columns or with a
// column twice; unknown columns are refused too, so that a misspelt
// "approachs" is not silently dropped.
func checkHeader(header []string, schema Schema) error {
	seen := map[string]bool{}
	for _, h := range header {
		if !slices.Contains(schema.Columns, h) {
			return &FileError{fmt.Sprintf("line 1: unknown column %q (the columns are: %s)", h, strings.Join(schema.Columns, ", "))}
		}
		if seen[h] {
			return &FileError{fmt.Sprintf("line 1: column %q appears twice", h)}
		}
		seen[h] = true
	}
	for _, r := range schema.Required {
		if !seen[r] {
			return &FileError{fmt.Sprintf("line 1: the required column %q is missing", r)}
		}
	}
	return nil
}
