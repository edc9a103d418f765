-- +goose Up
-- Therapist profiles. Times are UTC text in a fixed-width format
-- (2006-01-02T15:04:05.000000Z) so they sort and compare as strings;
-- next_check_due is a calendar date (2006-01-02).
CREATE TABLE profiles (
    id                        INTEGER PRIMARY KEY,
    slug                      TEXT    NOT NULL UNIQUE,
    display_name              TEXT    NOT NULL,
    headline                  TEXT    NOT NULL,
    statement                 TEXT    NOT NULL DEFAULT '',
    gender                    TEXT    NOT NULL DEFAULT '',
    fee_min_pence             INTEGER NOT NULL CHECK (fee_min_pence >= 0),
    fee_max_pence             INTEGER NOT NULL CHECK (fee_max_pence >= fee_min_pence),
    concessions               INTEGER NOT NULL DEFAULT 0 CHECK (concessions IN (0, 1)),
    availability              TEXT    NOT NULL CHECK (availability IN ('accepting', 'waitlist', 'full')),
    availability_confirmed_at TEXT,
    verification_state        TEXT    NOT NULL CHECK (verification_state IN ('unverified', 'pending', 'verified', 'expired', 'suspended')),
    verified_at               TEXT,
    next_check_due            TEXT,
    contact_email             TEXT    NOT NULL,
    published                 INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    created_at                TEXT    NOT NULL,
    updated_at                TEXT    NOT NULL
);

-- Professional memberships, in the order the therapist lists them; the
-- first is the one the verification record refers to.
CREATE TABLE profile_memberships (
    profile_id        INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    body              TEXT    NOT NULL,
    membership_number TEXT    NOT NULL,
    level             TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (profile_id, position)
) WITHOUT ROWID;

-- Multi-valued tags: approaches, issues, client groups, formats and
-- languages, in the therapist's order. Clustered by profile so that the
-- search index loads them in one ordered pass.
CREATE TABLE profile_terms (
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('approach', 'issue', 'client', 'format', 'language')),
    position   INTEGER NOT NULL,
    term       TEXT    NOT NULL,
    PRIMARY KEY (profile_id, kind, position)
) WITHOUT ROWID;

-- Practice locations. postcode is private; outcode, area and the district
-- centroid (lat, lon) are what the public sees.
CREATE TABLE practice_locations (
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    postcode   TEXT    NOT NULL,
    outcode    TEXT    NOT NULL,
    area       TEXT    NOT NULL,
    lat        REAL    NOT NULL,
    lon        REAL    NOT NULL,
    wheelchair INTEGER NOT NULL DEFAULT 0 CHECK (wheelchair IN (0, 1)),
    evenings   INTEGER NOT NULL DEFAULT 0 CHECK (evenings IN (0, 1)),
    weekends   INTEGER NOT NULL DEFAULT 0 CHECK (weekends IN (0, 1)),
    PRIMARY KEY (profile_id, position)
) WITHOUT ROWID;

-- A feed of changed profile ids, appended in the same transaction as the
-- change, so every server process (and, later, every replica) can bring
-- its search index up to date without a restart.
CREATE TABLE profile_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id INTEGER NOT NULL,
    changed_at TEXT    NOT NULL
);

-- +goose Down
DROP TABLE profile_changes;
DROP TABLE practice_locations;
DROP TABLE profile_terms;
DROP TABLE profile_memberships;
DROP TABLE profiles;
