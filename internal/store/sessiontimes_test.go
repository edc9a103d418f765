package store_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/confide-org/confide/internal/store"
	"github.com/confide-org/confide/internal/store/storetest"
)

// TestSessionTimesMigration writes practices with the evenings and
// weekends flags they had before migration 00017 and checks that each
// profile comes out with the session times its practices gave: evenings
// as evenings, weekends as Saturdays only (nobody said Sundays), on
// either engine.
func TestSessionTimesMigration(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	old, err := store.OpenAtVersionForTest(ctx, dsn, log, 16)
	if err != nil {
		t.Fatal(err)
	}
	profile := func(id, slug string) string {
		return `INSERT INTO profiles (id, slug, display_name, headline, fee_min_pence, fee_max_pence, availability, verification_state, contact_email, created_at, updated_at)
			VALUES (` + id + `, '` + slug + `', 'A Example', 'Counsellor in Leeds', 4000, 5000, 'accepting', 'unverified', '` + slug + `@example.org', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`
	}
	for _, q := range []string{
		profile("1", "both-places"), profile("2", "weekends-only"), profile("3", "neither"), profile("4", "evenings-only"),
		`INSERT INTO profile_terms (profile_id, kind, position, term) VALUES (1, 'approach', 0, 'cbt'), (1, 'language', 0, 'en')`,
		`INSERT INTO practice_locations (profile_id, position, postcode, outcode, area, lat, lon, wheelchair, evenings, weekends) VALUES
			(1, 0, 'LS1 4AP', 'LS1', 'Leeds', 53.79, -1.54, TRUE, TRUE, FALSE),
			(1, 1, 'LS6 1AA', 'LS6', 'Leeds', 53.82, -1.57, FALSE, FALSE, TRUE),
			(2, 0, 'YO1 7HH', 'YO1', 'York', 53.96, -1.08, FALSE, FALSE, TRUE),
			(3, 0, 'M1 1AE', 'M1', 'Manchester', 53.48, -2.24, TRUE, FALSE, FALSE),
			(4, 0, 'M2 1AE', 'M2', 'Manchester', 53.48, -2.24, FALSE, TRUE, FALSE),
			(4, 1, 'M3 1AE', 'M3', 'Manchester', 53.48, -2.25, FALSE, TRUE, FALSE)`,
	} {
		if err := old.ExecForTest(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	old.Close()
	db := storetest.OpenDSN(t, dsn)
	for _, tt := range []struct {
		id    int64
		times []string
	}{
		{1, []string{"evenings", "saturdays"}},
		{2, []string{"saturdays"}},
		{3, nil},
		{4, []string{"evenings"}},
	} {
		t.Run(string(rune('0'+tt.id)), func(t *testing.T) {
			p, err := db.ProfileByID(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.SessionTimes, tt.times) {
				t.Errorf("session times %q, want %q", p.SessionTimes, tt.times)
			}
			if tt.id == 1 && (len(p.Locations) != 2 || !p.Locations[0].Wheelchair || !slices.Equal(p.Approaches, []string{"cbt"})) {
				t.Errorf("the rest of the profile changed: %+v", p)
			}
		})
	}
}
