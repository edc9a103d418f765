package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/hsds"
)

// HSDS is the format name of the HSDS 3.0 tabular data package.
const HSDS = "hsds"

// Package describes the data package as a whole.
type Package struct {
	// Title names the directory, e.g. "Confide".
	Title string
	// BaseURL is the site's public address: HSDS's url fields must be
	// absolute, so it may not be empty.
	BaseURL string
}

// WriteHSDS writes every profile public at now as an Open Referral HSDS
// 3.0 tabular data package: a new directory dir (created private, never
// over an existing one) holding datapackage.json and one CSV per table.
// The rows are the same records the HSDS API answers with, so the two
// agree; string cells that would start a spreadsheet formula are made
// text. A failed export removes what it wrote.
func WriteHSDS(ctx context.Context, dir string, profiles Lister, m *hsds.Mapper, pkg Package, now time.Time) (n int, err error) {
	if !strings.HasPrefix(pkg.BaseURL, "https://") && !strings.HasPrefix(pkg.BaseURL, "http://") {
		return 0, errors.New("export: the HSDS package needs the site's public address (--base-url): its links must be absolute")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	tables := hsds.Tables()
	type sink struct {
		f   *os.File
		buf *bufio.Writer
		csv *csv.Writer
	}
	sinks := map[string]*sink{}
	defer func() {
		for _, s := range sinks {
			if cerr := s.f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("export: %w", cerr)
			}
		}
	}()
	for _, t := range tables {
		f, err := os.OpenFile(filepath.Join(dir, t.Path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		buf := bufio.NewWriter(f)
		s := &sink{f: f, buf: buf, csv: csv.NewWriter(buf)}
		sinks[t.Name] = s
		var header []string
		for _, f := range t.Fields {
			header = append(header, f.Name)
		}
		if err := s.csv.Write(header); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
	}
	put := func(rows map[string][]any) error {
		for _, t := range tables {
			for _, row := range rows[t.Name] {
				cells, err := t.Cells(row)
				if err != nil {
					return err
				}
				for i, f := range t.Fields {
					if f.Type == "string" {
						cells[i] = Neutralise(cells[i])
					}
				}
				if err := sinks[t.Name].csv.Write(cells); err != nil {
					return err
				}
			}
		}
		return nil
	}
	_, err = profiles.EachProfile(ctx, func(p *directory.Profile) error {
		if !p.IsPublic(now) {
			return nil
		}
		n++
		return put(m.Record(p, now).Rows())
	})
	if err == nil {
		err = put(m.TaxonomyRows())
	}
	for _, t := range tables {
		if err != nil {
			break
		}
		s := sinks[t.Name]
		s.csv.Flush()
		if err = s.csv.Error(); err == nil {
			err = s.buf.Flush()
		}
	}
	if err == nil {
		err = writeDescriptor(dir, tables, pkg, now)
	}
	if err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// The Frictionless Data Package descriptor (datapackage.json): every
// table with its path and schema, as HSDS's datapackage_metadata and
// field keywords define them.
type (
	descriptor struct {
		Profile   string     `json:"profile"`
		Name      string     `json:"name"`
		Title     string     `json:"title"`
		Homepage  string     `json:"homepage"`
		Created   string     `json:"created"`
		Sources   []source   `json:"sources"`
		Resources []resource `json:"resources"`
	}
	source struct {
		Title string `json:"title"`
		Path  string `json:"path"`
	}
	resource struct {
		Name      string      `json:"name"`
		Path      string      `json:"path"`
		Profile   string      `json:"profile"`
		Format    string      `json:"format"`
		Mediatype string      `json:"mediatype"`
		Encoding  string      `json:"encoding"`
		Schema    tableSchema `json:"schema"`
	}
	tableSchema struct {
		Fields      []field      `json:"fields"`
		PrimaryKey  []string     `json:"primaryKey"`
		ForeignKeys []foreignKey `json:"foreignKeys,omitempty"`
	}
	field struct {
		Name        string       `json:"name"`
		Type        string       `json:"type"`
		Format      string       `json:"format,omitempty"`
		Constraints *constraints `json:"constraints,omitempty"`
	}
	constraints struct {
		Required bool `json:"required,omitempty"`
		Unique   bool `json:"unique,omitempty"`
	}
	foreignKey struct {
		Fields    []string  `json:"fields"`
		Reference reference `json:"reference"`
	}
	reference struct {
		Resource string   `json:"resource"`
		Fields   []string `json:"fields"`
	}
)

func writeDescriptor(dir string, tables []hsds.Table, pkg Package, now time.Time) error {
	d := descriptor{Profile: "tabular-data-package", Name: "hsds", Title: pkg.Title + " directory of counsellors and psychotherapists (HSDS " + hsds.Version + ")",
		Homepage: pkg.BaseURL, Created: now.UTC().Format(time.RFC3339),
		Sources: []source{{Title: "Human Services Data Specification: an Open Referral resource", Path: "https://openreferral.org/"}}}
	for _, t := range tables {
		r := resource{Name: t.Name, Path: t.Path, Profile: "tabular-data-resource", Format: "csv", Mediatype: "text/csv", Encoding: "utf-8",
			Schema: tableSchema{PrimaryKey: []string{"id"}}}
		for _, f := range t.Fields {
			fd := field{Name: f.Name, Type: f.Type, Format: f.Format}
			if f.Required || f.Unique {
				fd.Constraints = &constraints{Required: f.Required, Unique: f.Unique}
			}
			r.Schema.Fields = append(r.Schema.Fields, fd)
		}
		for _, fk := range t.ForeignKeys {
			r.Schema.ForeignKeys = append(r.Schema.ForeignKeys, foreignKey{Fields: []string{fk.Field},
				Reference: reference{Resource: fk.Table, Fields: []string{"id"}}})
		}
		d.Resources = append(d.Resources, r)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "datapackage.json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
