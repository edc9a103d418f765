package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confide-org/confide/internal/bench"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/store/storetest"
	"github.com/confide-org/confide/internal/taxonomy"
)

// TestMigrateStore: a demo directory with accounts, enquiries and an
// audit chain, copied from SQLite into this run's engine (a PostgreSQL
// schema when CONFIDE_TEST_POSTGRES is set), has the same count in every
// table, an audit chain that verifies there, enquiries that still open
// with the same key file, and answers 200 API searches identically.
func TestMigrateStore(t *testing.T) {
	src := newHarness(t, 400, func(c *config) { c.DB = filepath.Join(t.TempDir(), "source.db") })
	u, p := src.therapist("moving@example.org")
	if res := src.client().enquire(p.Slug, map[string]string{"message": "Sealed before the move"}); res.status != 303 {
		t.Fatalf("enquiry: %d", res.status)
	}
	src.mail(u.Email, "enquiry")
	src.app.Accounts.Wait()

	dsn := storetest.DSN(t)
	var out bytes.Buffer
	if code := run(context.Background(), []string{"migrate-store", "--from", src.app.DSN, "--to", dsn, "--key-file", src.app.KeyPath}, noEnvironment, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("migrate-store: exit %d\n%s", code, out.String())
	}
	// This test's enquiry and those in the demo therapist's inbox.
	if !strings.Contains(out.String(), "every table's count matches") || !strings.Contains(out.String(), fmt.Sprintf("enquiries %25d rows", 1+src.demoInbox())) {
		t.Fatalf("report:\n%s", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"migrate-store", "--from", src.app.DSN, "--to", dsn, "--key-file", src.app.KeyPath}, noEnvironment, strings.NewReader(""), &out, &out); code != 1 ||
		!strings.Contains(out.String(), "already holds data") {
		t.Fatalf("second copy into a full target: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"audit", "verify", "--db", dsn, "--key-file", src.app.KeyPath}, noEnvironment, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("audit verify on the target: %s", out.String())
	}

	dst := newHarness(t, 0, func(c *config) { c.DB, c.KeyFile, c.Demo = dsn, src.app.KeyPath, false })
	c := dst.client()
	c.signIn(u.Email, testPassword)
	if res := c.get("/dashboard/enquiries"); !strings.Contains(res.body, "Sam Sender") {
		t.Fatalf("the moved enquiry does not open on the target: %s", excerpt(res.body))
	}
	cases := bench.Mix(geo.MustLoad(), taxonomy.MustLoad(), 200, 3)
	withResults := 0
	for _, k := range cases {
		path := "/api/v1/therapists?" + k.Values.Encode()
		a, b := httptestGet(src.app.Handler, path), httptestGet(dst.app.Handler, path)
		if a != b {
			t.Fatalf("%s differs after the move:\n%s\n---\n%s", k.Describe(), excerpt(a), excerpt(b))
		}
		if strings.Contains(a, `"results":[{`) {
			withResults++
		}
	}
	if withResults < len(cases)/2 {
		t.Fatalf("only %d of %d searches found anyone: the comparison proves little", withResults, len(cases))
	}
}
