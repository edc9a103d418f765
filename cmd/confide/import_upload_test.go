package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/directory"
)

// upload posts a register file to the admin import page as a browser
// does.
func (c *client) upload(name string, data []byte, fields map[string]string) response {
	c.h.t.Helper()
	return c.postMultipart("/admin/import", fields, "file", name, data)
}

// postMultipart posts a multipart/form-data form with fields and, when
// name is not empty, a file (as fileField) named name holding data.
func (c *client) postMultipart(path string, fields map[string]string, fileField, name string, data []byte) response {
	c.h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			c.h.t.Fatal(err)
		}
	}
	if name != "" {
		fw, err := mw.CreateFormFile(fileField, name)
		if err != nil {
			c.h.t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.h.srv.URL+path, &body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), header: res.Header}
}

const uploadHeader = "name,email,body,membership_number,postcode,formats,approaches,issues,fee_min,fee_max\n"

// TestImportUpload: the admin page gives the command's answers. A check
// writes nothing and lists every bad row with its line and reason; an
// import writes the good rows (unpublished), queues their claim
// invitations and one audit entry under the admin's name; the same file
// again changes nothing. Files refused as a whole (wrong delimiter, too
// big, none chosen, no format) are a 400 page that says why and writes
// nothing, never a 500.
func TestImportUpload(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 0, nil)
	h.user("importer@example.org", testPassword, account.Admin)
	admin := h.client()
	admin.signIn("importer@example.org", testPassword)
	count := func() int {
		n, err := h.app.DB.EachProfile(h.ctx, func(*directory.Profile) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	if page := admin.get("/admin/import"); page.status != http.StatusOK || !strings.Contains(page.body, `enctype="multipart/form-data"`) {
		t.Fatalf("form: %d %s", page.status, excerpt(page.body))
	}
	if page := admin.get("/staff"); !strings.Contains(page.body, `href="/admin/import"`) {
		t.Errorf("the staff home does not link to the import page")
	}
	file := []byte(uploadHeader +
		"Ada Upload,ada.upload@example.org,BACP,U0001,LS6,online,cbt,anxiety,50,60\n" +
		"Ben Upload,ben.upload@example.org,UKCP,U0002,M1,in-person,Psychodynamic therapy,depression,40,45\n" +
		"Cara Upload,cara.upload@example.org,BACP,U0003,ZZ99,online,cbt,anxiety,50,60\n" +
		"Dev Upload,dev.upload@example.org,BACP,U0004,EH1,online,psychodynamc,anxiety,50,60\n" +
		"Eve Upload,eve.upload@example.org,NCPS,U0005,BS1,phone,person-centred,grief,£35,£50\n")
	before := count()

	check := admin.upload("register.csv", file, map[string]string{"mode": "check", "format": "auto"})
	for _, want := range []string{"Checked register.csv", "nothing has been written", "Would create</th><td>3<", "Rejected (see the problems below)</th><td>2<",
		"Enter a full UK postcode", `&#34;psychodynamc&#34; is not an approach we know (did you mean &#34;psychodynamic&#34;?)`, "<td>4</td>", "<td>5</td>", "Ada Upload", `value="apply" checked`} {
		if !strings.Contains(check.body, want) {
			t.Errorf("check page lacks %q", want)
		}
	}
	if check.status != http.StatusOK || count() != before {
		t.Fatalf("check: status %d, %d profiles (was %d)\n%s", check.status, count(), before, excerpt(check.body))
	}

	done := admin.upload("register.csv", file, map[string]string{"mode": "apply", "format": "auto"})
	if done.status != http.StatusOK || !strings.Contains(done.body, "Imported register.csv") || !strings.Contains(done.body, "Created</th><td>3<") ||
		!strings.Contains(done.body, "Claim invitations queued</th><td>3<") || count() != before+3 {
		t.Fatalf("import: status %d, %d profiles (was %d)\n%s", done.status, count(), before, excerpt(done.body))
	}
	h.mail("ada.upload@example.org", "")
	var imported int
	h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if strings.HasSuffix(p.ContactEmail, ".upload@example.org") {
			imported++
			if p.Published {
				t.Errorf("%s is published before being claimed", p.DisplayName)
			}
		}
		return nil
	})
	if imported != 3 {
		t.Fatalf("%d imported profiles, want 3", imported)
	}
	entries, err := h.app.DB.RecentAudit(h.ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	var audited int
	for _, e := range entries {
		if e.Action == "import.apply" {
			audited++
			if !strings.Contains(e.Object, "import:register.csv created:3 updated:0 unchanged:0 kept:0 rejected:2") || !strings.Contains(e.Actor, "user:") {
				t.Errorf("audit entry: actor %q object %q", e.Actor, e.Object)
			}
		}
	}
	if audited != 1 {
		t.Errorf("%d import.apply audit entries, want 1", audited)
	}
	again := admin.upload("register.csv", file, map[string]string{"mode": "apply"})
	if !strings.Contains(again.body, "Created</th><td>0<") || !strings.Contains(again.body, "Unchanged</th><td>3<") || count() != before+3 {
		t.Fatalf("second import changed something: %d profiles\n%s", count(), excerpt(again.body))
	}

	big := append([]byte(uploadHeader), bytes.Repeat([]byte("x"), 50<<20)...)
	for _, c := range []struct {
		name, file string
		data       []byte
		fields     map[string]string
		want       string
	}{
		{"semicolons", "register.csv", []byte(strings.ReplaceAll(uploadHeader, ",", ";") + "A;a@example.org;BACP;1;LS6;online;cbt;;;\n"), map[string]string{"mode": "apply"}, "semicolon"},
		{"50 MB", "register.csv", big, map[string]string{"mode": "apply"}, "larger than 32 MB"},
		{"no file", "", nil, map[string]string{"mode": "apply"}, "Choose a CSV or JSON lines file"},
		{"no format", "register.txt", file, map[string]string{"mode": "apply"}, "Say whether the file is CSV or JSON lines"},
		{"empty", "register.csv", nil, map[string]string{"mode": "apply"}, "the file is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := admin.upload(c.file, c.data, c.fields)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, c.want) || !strings.Contains(res.body, `href="#file"`) && !strings.Contains(res.body, `href="#format"`) {
				t.Errorf("status %d, want 400 saying %q:\n%s", res.status, c.want, excerpt(res.body))
			}
			if count() != before+3 {
				t.Errorf("a refused file changed the directory: %d profiles", count())
			}
		})
	}
}
