package importer

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Service is the whole import of one file, read, checked, planned and
// (when asked) applied: the command line and the admin page both run it,
// so a file gets the same answer from either.
type Service struct {
	Builder  Builder
	Importer *Importer
}

// FormatOf guesses a file's format from its name: "csv" or "jsonl" (also
// for .json and .ndjson); any other extension comes back as it is, for
// Read to refuse by name.
func FormatOf(name string) string {
	switch ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), "."); ext {
	case "json", "ndjson":
		return "jsonl"
	default:
		return ext
	}
}

// Run reads r as format and plans the import; with apply it carries the
// plan out, recording source (the file's name) in the audit entry. A file
// refused as a whole is a *FileError naming the reason, and nothing from
// it is written; a plan whose rows have problems still
// applies its good rows (the dry run showed which).
func (s *Service) Run(ctx context.Context, r io.Reader, format, source string, apply bool) (*Plan, error) {
	rows, problems, err := Read(r, format)
	if err != nil {
		return nil, err
	}
	entries, bad := s.Builder.Build(rows)
	problems = append(problems, bad...)
	plan, err := s.Importer.Plan(ctx, entries, problems)
	if err != nil {
		return nil, fmt.Errorf("import %s: plan: %w", source, err)
	}
	if !apply {
		return plan, nil
	}
	if err := s.Importer.Apply(ctx, plan, source); err != nil {
		return plan, err
	}
	return plan, nil
}
