package web

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/confide-org/confide/internal/importer"
)

// maxImportUpload bounds the upload: the importer's own limit and a little
// for the form's other parts, so a larger file is told its size rather
// than cut off.
const maxImportUpload = importer.MaxBytes + 1<<20

// importRowsShown caps the per-row table: a register of thousands is
// summed up by its counts, and its problems are all listed.
const importRowsShown = 200

type importStep struct {
	Line   int
	Name   string
	Member string
	Action string
}

type importPage struct {
	layout
	Form formState
	// File is the uploaded file's name; Applied says the import was made
	// rather than checked.
	File    string
	Checked bool
	Applied bool
	// Counts by action, rows in all, rejected rows, invitations.
	Create, Update, Unchanged, Kept int
	Rows, Rejected, Invited, Had    int
	Problems                        []importer.Problem
	Steps                           []importStep
	MoreSteps                       int
	ColumnsDoc, RequiredDoc         string
	// MaxMB is the upload limit in megabytes, for the hint.
	MaxMB int
}

func (h *Handler) newImportPage(r *http.Request, f formState) importPage {
	return importPage{layout: h.layout(r, "Import a register", "staff"), Form: f,
		ColumnsDoc: strings.Join(importer.Columns, ", "), RequiredDoc: strings.Join(importer.Required, ", "), MaxMB: importer.MaxBytes >> 20}
}

func (h *Handler) showImport(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "import", h.newImportPage(r, formState{}))
}

// runImport checks an uploaded register file and, when the admin chose
// to, imports it: the same service as `confide import therapists`, so the
// page and the command give one answer. A refused file changes nothing
// and the page says why; a check writes nothing at all.
func (h *Handler) runImport(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportUpload)
	page := h.newImportPage(r, formState{})
	fail := func(id, msg string) error {
		page.Title = "Error: " + page.Title
		page.Form.add(id, msg)
		return h.render(w, r, http.StatusBadRequest, "import", page)
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail("file", "The file is larger than "+strconv.Itoa(importer.MaxBytes>>20)+" MB: split it into several files")
		}
		return fail("file", "Choose a CSV or JSON lines file to upload")
	}
	defer r.MultipartForm.RemoveAll()
	page.Form.Values = r.MultipartForm.Value
	apply := r.FormValue("mode") == "apply"
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return fail("file", "Choose a CSV or JSON lines file to upload")
	}
	defer f.Close()
	page.File = filepath.Base(hdr.Filename)
	format := r.FormValue("format")
	if format == "" || format == "auto" {
		format = importer.FormatOf(page.File)
	}
	if format != "csv" && format != "jsonl" {
		return fail("format", "Say whether the file is CSV or JSON lines (its name does not end in .csv or .jsonl)")
	}
	plan, err := h.Import.Run(r.Context(), f, format, page.File, apply)
	var fe *importer.FileError
	if errors.As(err, &fe) {
		return fail("file", fe.Reason+" (nothing was imported)")
	}
	if err != nil {
		return err
	}
	page.Checked, page.Applied = true, apply
	page.Create, page.Update, page.Unchanged, page.Kept = plan.Counts[importer.Create], plan.Counts[importer.Update], plan.Counts[importer.Unchanged], plan.Counts[importer.Kept]
	page.Rejected, page.Invited, page.Had = plan.Rejected(), plan.Invited, plan.HadAccount
	page.Rows = len(plan.Steps) + page.Rejected
	page.Problems = slices.Clone(plan.Problems)
	slices.SortStableFunc(page.Problems, func(a, b importer.Problem) int { return a.Line - b.Line })
	for i, s := range plan.Steps {
		if i == importRowsShown {
			page.MoreSteps = len(plan.Steps) - i
			break
		}
		page.Steps = append(page.Steps, importStep{Line: s.Line, Name: s.Profile.DisplayName,
			Member: strings.ToUpper(s.Key.Body) + " " + s.Key.Number, Action: importActionLabel(s.Action, apply)})
	}
	if apply {
		page.Title = "Imported: " + page.File
	} else {
		page.Title = "Checked: " + page.File
		// The next step is most likely the import itself.
		page.Form.Values.Set("mode", "apply")
	}
	return h.render(w, r, http.StatusOK, "import", page)
}

func importActionLabel(a importer.Action, applied bool) string {
	done := map[importer.Action][2]string{
		importer.Create:    {"Would create", "Created"},
		importer.Update:    {"Would update", "Updated"},
		importer.Unchanged: {"Unchanged", "Unchanged"},
		importer.Kept:      {"Kept: claimed by their therapist", "Kept: claimed by their therapist"},
	}[a]
	if applied {
		return done[1]
	}
	return done[0]
}
