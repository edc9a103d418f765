package hsds

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Field is one column of an HSDS table as the tabular data package
// declares it: the name, Frictionless type and format, and constraints,
// as the HSDS schema's type, format, datapackage_type, required,
// tabular_required and constraints keywords give them. A test checks
// every one against the official schema.
type Field struct {
	Name     string
	Type     string // string, number, date or datetime
	Format   string // uuid, uri or email for strings; empty otherwise
	Required bool
	Unique   bool
}

// ForeignKey says a column holds the id of a row of another table.
type ForeignKey struct {
	Field string
	Table string
}

// Table is one HSDS table: its schema name, its file in the package, the
// columns Confide fills, and the links to other tables.
type Table struct {
	Name        string
	Path        string
	Fields      []Field
	ForeignKeys []ForeignKey
}

func idField() Field {
	return Field{Name: "id", Type: "string", Format: "uuid", Required: true, Unique: true}
}
func text(name string) Field     { return Field{Name: name, Type: "string"} }
func required(name string) Field { return Field{Name: name, Type: "string", Required: true} }
func ref(name string, req bool) Field {
	return Field{Name: name, Type: "string", Format: "uuid", Required: req}
}

// Tables are the HSDS tables the data package holds, in the order HSDS's
// datapackage_metadata gives them. Tables HSDS defines but Confide has
// nothing public for are left out: phone, contact and address (no
// telephone number, person or street address is ever public: a
// practice's place is its postcode district, which HSDS's address,
// requiring a street line and a state or province, cannot hold),
// program, funding, service_area, required_document and metadata.
func Tables() []Table {
	return []Table{
		{Name: "organization", Path: "organizations.csv", Fields: []Field{idField(), required("name"), required("description"),
			{Name: "website", Type: "string", Format: "uri"}}},
		{Name: "service", Path: "services.csv", Fields: []Field{idField(), ref("organization_id", true), required("name"), text("alternate_name"),
			text("description"), {Name: "url", Type: "string", Format: "uri"}, required("status"), text("application_process"),
			text("fees_description"), text("accreditations"), text("eligibility_description"), {Name: "assured_date", Type: "date"},
			text("alert"), {Name: "last_modified", Type: "datetime"}},
			ForeignKeys: []ForeignKey{{"organization_id", "organization"}}},
		{Name: "attribute", Path: "attributes.csv", Fields: []Field{idField(), ref("link_id", true), ref("taxonomy_term_id", true),
			text("link_type"), required("link_entity")},
			ForeignKeys: []ForeignKey{{"link_id", "service"}, {"taxonomy_term_id", "taxonomy_term"}}},
		{Name: "service_at_location", Path: "service_at_location.csv", Fields: []Field{idField(), ref("service_id", true),
			ref("location_id", true), text("description")},
			ForeignKeys: []ForeignKey{{"service_id", "service"}, {"location_id", "location"}}},
		{Name: "location", Path: "locations.csv", Fields: []Field{idField(), required("location_type"), ref("organization_id", false),
			text("name"), text("description"), {Name: "latitude", Type: "number"}, {Name: "longitude", Type: "number"}},
			ForeignKeys: []ForeignKey{{"organization_id", "organization"}}},
		{Name: "schedule", Path: "schedules.csv", Fields: []Field{idField(), ref("service_id", false), ref("service_at_location_id", false),
			text("freq"), text("byday"), text("description"), text("attending_type")},
			ForeignKeys: []ForeignKey{{"service_id", "service"}, {"service_at_location_id", "service_at_location"}}},
		{Name: "language", Path: "languages.csv", Fields: []Field{idField(), ref("service_id", false), text("name"), text("code")},
			ForeignKeys: []ForeignKey{{"service_id", "service"}}},
		{Name: "accessibility", Path: "accessibility.csv", Fields: []Field{idField(), ref("location_id", false), text("description")},
			ForeignKeys: []ForeignKey{{"location_id", "location"}}},
		{Name: "taxonomy_term", Path: "taxonomy_terms.csv", Fields: []Field{idField(), {Name: "code", Type: "string", Unique: true},
			required("name"), required("description"), ref("parent_id", false), text("taxonomy"), text("language"),
			ref("taxonomy_id", false), {Name: "term_uri", Type: "string", Format: "uri"}},
			ForeignKeys: []ForeignKey{{"parent_id", "taxonomy_term"}, {"taxonomy_id", "taxonomy"}}},
		{Name: "cost_option", Path: "cost_options.csv", Fields: []Field{idField(), ref("service_id", true), text("option"),
			text("currency"), {Name: "amount", Type: "number"}, text("amount_description")},
			ForeignKeys: []ForeignKey{{"service_id", "service"}}},
		{Name: "organization_identifier", Path: "organization_identifiers.csv", Fields: []Field{idField(), ref("organization_id", true),
			required("identifier_type"), required("identifier")},
			ForeignKeys: []ForeignKey{{"organization_id", "organization"}}},
		{Name: "taxonomy", Path: "taxonomies.csv", Fields: []Field{idField(), required("name"), required("description"),
			{Name: "uri", Type: "string", Format: "uri"}, text("version")}},
	}
}

// Rows are the record's rows by table name.
func (r *Record) Rows() map[string][]any {
	rows := map[string][]any{
		"organization": {r.Organization},
		"service":      {r.Service},
	}
	put := func(table string, n int, at func(int) any) {
		for i := range n {
			rows[table] = append(rows[table], at(i))
		}
	}
	put("organization_identifier", len(r.Identifiers), func(i int) any { return r.Identifiers[i] })
	put("location", len(r.Locations), func(i int) any { return r.Locations[i] })
	put("accessibility", len(r.Accessibility), func(i int) any { return r.Accessibility[i] })
	put("service_at_location", len(r.ServiceAtLocations), func(i int) any { return r.ServiceAtLocations[i] })
	put("schedule", len(r.Schedules), func(i int) any { return r.Schedules[i] })
	put("cost_option", len(r.CostOptions), func(i int) any { return r.CostOptions[i] })
	put("language", len(r.Languages), func(i int) any { return r.Languages[i] })
	put("attribute", len(r.Attributes), func(i int) any { return r.Attributes[i] })
	return rows
}

// TaxonomyRows are the rows of the taxonomy tables, which belong to no
// profile.
func (m *Mapper) TaxonomyRows() map[string][]any {
	rows := map[string][]any{}
	for _, t := range m.taxa {
		rows["taxonomy"] = append(rows["taxonomy"], t)
	}
	for _, t := range m.terms {
		rows["taxonomy_term"] = append(rows["taxonomy_term"], t)
	}
	return rows
}

// Cells are row v's values in t's column order, "" for a field it leaves
// out. A flat field of v with no column is an error, so nothing the API
// says can go missing from the package unnoticed.
func (t Table) Cells(v any) ([]string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	cells := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		switch x := m[f.Name].(type) {
		case nil:
		case string:
			cells[i] = x
		case float64:
			cells[i] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("hsds %s.%s: a %T is no cell", t.Name, f.Name, x)
		}
	}
	for k, x := range m {
		switch x.(type) {
		case map[string]any, []any:
			continue // nested: API only
		}
		if !slices.ContainsFunc(t.Fields, func(f Field) bool { return f.Name == k }) {
			return nil, fmt.Errorf("hsds %s: field %s has no column", t.Name, k)
		}
	}
	return cells, nil
}
