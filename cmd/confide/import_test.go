package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// registerCSV writes a register of n rows, every 33rd of them bad in one
// of six ways, and returns the file and the lines that must be rejected.
func registerCSV(t *testing.T, n int) (string, []int) {
	t.Helper()
	districts := geo.MustLoad().Districts()
	approaches := taxonomy.MustLoad().Terms(taxonomy.Approach)
	var b bytes.Buffer
	b.WriteString("name,email,body,membership_number,level,postcode,formats,approaches,issues,client_groups,languages,fee_min,fee_max,concessions\n")
	var bad []int
	for i := range n {
		line := i + 2
		name, email, number := fmt.Sprintf("Therapist Number%d", i), fmt.Sprintf("t%d@example.org", i), fmt.Sprintf("R%06d", i)
		postcode, approach, fee := districts[i%len(districts)].Outcode, approaches[i%len(approaches)].Label, strconv.Itoa(40+i%50)
		if i%33 == 32 {
			bad = append(bad, line)
			switch (i / 33) % 6 {
			case 0:
				approach = "psychodynamc"
			case 1:
				postcode = "ZZ99 9ZZ"
			case 2:
				number = fmt.Sprintf("R%06d", i-1) // the row above's
			case 3:
				email = ""
			case 4:
				fee = "forty"
			case 5:
				name = "Ren\xe9e Latin1" // not UTF-8
			}
		}
		fmt.Fprintf(&b, "%s,%s,BACP,%s,Registered member,%s,online,%s,anxiety,individuals,en,%s,%s,no\n", name, email, number, postcode, approach, fee, fee)
	}
	path := filepath.Join(t.TempDir(), "register.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, bad
}

var problemLine = regexp.MustCompile(`(?m)^line (\d+)`)

// TestImportRegister: a 10,000-row register with 3 % bad rows (unknown
// approach, bad postcode, duplicate membership number, missing email, bad
// fee, wrong encoding). The dry run names exactly those rows and writes
// nothing; --apply imports the rest, unpublished, with one audit entry;
// a second --apply changes nothing; a changed row is one update.
func TestImportRegister(t *testing.T) {
	h := newHarness(t, 0, nil)
	t.Parallel()
	rows := 10000
	if raceDetector {
		// The race run checks the import's concurrency, not its size: a
		// tenth of the rows keeps the same mix of problems.
		rows = 1000
	}
	file, wantBad := registerCSV(t, rows)
	good := rows - len(wantBad)
	imp := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"import", "therapists", file, "--db", h.app.DSN, "--key-file", h.app.KeyPath, "--base-url", h.srv.URL}, args...),
			noEnvironment, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	count := func() int {
		n, err := h.app.DB.EachProfile(h.ctx, func(*directory.Profile) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := count()
	code, out := imp()
	var gotBad []int
	for _, m := range problemLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		if len(gotBad) == 0 || gotBad[len(gotBad)-1] != n {
			gotBad = append(gotBad, n)
		}
	}
	if code != 1 || !slices.Equal(gotBad, wantBad) || !strings.Contains(out, fmt.Sprintf("would create %d", good)) || count() != before {
		t.Fatalf("dry run: exit %d, %d rejected lines (want %d), %d profiles (want %d)\n%s", code, len(gotBad), len(wantBad), count(), before, excerpt(out))
	}
	for _, want := range []string{`"psychodynamc" is not an approach we know (did you mean "psychodynamic"?)`, "ZZ99 is not recognised",
		"is already on line", "email: required", `"forty" must be an amount`, "not UTF-8"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Without the site's address the claim links would lead nowhere
	// (they read http:///setup before this was refused).
	var noBase bytes.Buffer
	if code := run(context.Background(), []string{"import", "therapists", file, "--apply", "--db", h.app.DSN, "--key-file", h.app.KeyPath}, noEnvironment,
		strings.NewReader(""), &noBase, &noBase); code == 0 || !strings.Contains(noBase.String(), "--base-url") || count() != before {
		t.Fatalf("--apply without --base-url: exit %d, %d profiles\n%s", code, count(), noBase.String())
	}
	code, out = imp("--apply")
	t.Logf("first --apply: %s", out[strings.LastIndex(out, fmt.Sprintf("\n%d rows", rows))+1:])
	if code != 0 || !strings.Contains(out, fmt.Sprintf("created %d, updated 0", good)) || count() != before+good {
		t.Fatalf("apply: exit %d, %d profiles\n%s", code, count(), excerpt(out))
	}
	public := 0
	h.app.DB.EachProfile(h.ctx, func(p *directory.Profile) error {
		if p.IsPublic(h.clock.Now()) || p.Published {
			public++
		}
		return nil
	})
	if public != 0 {
		t.Fatalf("%d imported profiles are public before being claimed and verified", public)
	}
	if code, out = imp("--apply"); code != 0 || !strings.Contains(out, fmt.Sprintf("created 0, updated 0, unchanged %d", good)) {
		t.Fatalf("second apply: exit %d\n%s", code, excerpt(out))
	}
	b, _ := os.ReadFile(file)
	changed := strings.Replace(string(b), "t5@example.org,BACP,R000005,Registered member", "t5@example.org,BACP,R000005,Registered member", 1)
	changed = strings.Replace(changed, "Therapist Number5,", "Therapist Numberfive,", 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out = imp("--apply"); code != 0 || !strings.Contains(out, fmt.Sprintf("created 0, updated 1, unchanged %d", good-1)) {
		t.Fatalf("changed row: exit %d\n%s", code, excerpt(out))
	}
	audits := 0
	h.app.DB.EachAudit(h.ctx, func(e audit.Entry) error {
		if e.Action == "import.apply" {
			audits++
			if !strings.Contains(e.Object, "register.csv") || !strings.Contains(e.Object, fmt.Sprintf("rejected:%d", len(wantBad))) {
				t.Errorf("audit entry %q", e.Object)
			}
		}
		return nil
	})
	if audits != 3 {
		t.Fatalf("%d import audit entries, want one per --apply", audits)
	}
}

// TestImportClaim: an imported therapist gets a claim invitation through
// the outbox (the local SMTP server receives it), its link works once,
// signing in shows the imported profile, and sending evidence puts it in
// the verification queue; a later import leaves the claimed profile alone.
func TestImportClaim(t *testing.T) {
	h := newHarness(t, 0, nil)
	file := filepath.Join(t.TempDir(), "claim.csv")
	csv := "name,email,body,membership_number,postcode,approaches,fee_min\n" +
		"Imogen Claimant,imogen@example.org,BACP,0099887,LS6 2AB,Person-centred therapy,50\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := func() string {
		var out bytes.Buffer
		if code := run(context.Background(), []string{"import", "therapists", file, "--apply", "--db", h.app.DSN, "--key-file", h.app.KeyPath, "--base-url", h.srv.URL},
			noEnvironment, strings.NewReader(""), &out, &out); code != 0 {
			t.Fatalf("import: exit %d\n%s", code, out.String())
		}
		return out.String()
	}
	if out := imp(); !strings.Contains(out, "claim invitations queued: 1") {
		t.Fatalf("import:\n%s", out)
	}
	// The command ran on the wall clock; the harness's runs a week behind
	// it, so its outbox worker would see the invitation as not due yet.
	h.clock.Advance(time.Since(h.clock.Now()))
	body := h.mail("imogen@example.org", "Claim your listing")
	if !strings.Contains(body, "BACP") && !strings.Contains(body, "British Association") || !strings.Contains(body, "30 days") {
		t.Fatalf("invitation:\n%s", body)
	}
	path, token := h.link(body)
	c := h.client()
	form := url.Values{"token": {token}, "password": {testPassword}, "confirm": {testPassword}}
	if res := c.post(path, form); res.status != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", res.status, excerpt(res.body))
	}
	if res := h.client().post(path, form); res.status == http.StatusSeeOther {
		t.Fatal("the claim link worked twice")
	}
	c.signIn("imogen@example.org", testPassword)
	if res := c.get("/dashboard/profile"); res.status != http.StatusOK || !strings.Contains(res.body, "Imogen Claimant") {
		t.Fatalf("dashboard: %d %s", res.status, excerpt(res.body))
	}
	evidence := url.Values{"body": {"bacp"}, "number": {"0099887"}, "level": {"Registered member MBACP"}, "insurer": {"Holloway Indemnity"},
		"insurance_expires": {h.clock.Now().AddDate(0, 0, 200).Format(time.DateOnly)}, "qualification": {"Diploma in Counselling"}}
	if res := c.post("/dashboard/verification", evidence); res.status != http.StatusSeeOther {
		t.Fatalf("evidence: %d %s", res.status, excerpt(res.body))
	}
	u, _ := h.app.DB.UserByEmail(h.ctx, "imogen@example.org")
	if p := h.ownProfile(u); p.Verification.State != directory.Pending || p.Published {
		t.Fatalf("after evidence: %q, published %v", p.Verification.State, p.Published)
	}
	if out := imp(); !strings.Contains(out, "kept (claimed by their therapist) 1") {
		t.Fatalf("re-import after the claim:\n%s", out)
	}
}
