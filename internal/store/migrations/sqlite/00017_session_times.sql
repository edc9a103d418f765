-- +goose Up
-- Session times (weekday evenings, Saturdays, Sundays) belong to the
-- therapist, not to a practice: they become profile_terms of kind 'time'.
-- A practice's evenings flag becomes 'evenings'; its weekends flag becomes
-- 'saturdays' only, since nobody ever said they work Sundays. SQLite cannot
-- change a CHECK constraint in place, so profile_terms is rebuilt.
CREATE TABLE profile_terms_new (
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('approach', 'issue', 'client', 'format', 'language', 'time')),
    position   INTEGER NOT NULL,
    term       TEXT    NOT NULL,
    PRIMARY KEY (profile_id, kind, position)
) WITHOUT ROWID;
INSERT INTO profile_terms_new (profile_id, kind, position, term)
    SELECT profile_id, kind, position, term FROM profile_terms;
DROP TABLE profile_terms;
ALTER TABLE profile_terms_new RENAME TO profile_terms;

INSERT INTO profile_terms (profile_id, kind, position, term)
    SELECT profile_id, 'time', 0, 'evenings' FROM practice_locations
    GROUP BY profile_id HAVING MAX(evenings) = 1;
INSERT INTO profile_terms (profile_id, kind, position, term)
    SELECT profile_id, 'time', MAX(evenings), 'saturdays' FROM practice_locations
    GROUP BY profile_id HAVING MAX(weekends) = 1;

ALTER TABLE practice_locations DROP COLUMN evenings;
ALTER TABLE practice_locations DROP COLUMN weekends;

-- +goose Down
ALTER TABLE practice_locations ADD COLUMN evenings INTEGER NOT NULL DEFAULT 0 CHECK (evenings IN (0, 1));
ALTER TABLE practice_locations ADD COLUMN weekends INTEGER NOT NULL DEFAULT 0 CHECK (weekends IN (0, 1));
UPDATE practice_locations SET
    evenings = EXISTS (SELECT 1 FROM profile_terms t WHERE t.profile_id = practice_locations.profile_id AND t.kind = 'time' AND t.term = 'evenings'),
    weekends = EXISTS (SELECT 1 FROM profile_terms t WHERE t.profile_id = practice_locations.profile_id AND t.kind = 'time' AND t.term IN ('saturdays', 'sundays'));
DELETE FROM profile_terms WHERE kind = 'time';
CREATE TABLE profile_terms_old (
    profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('approach', 'issue', 'client', 'format', 'language')),
    position   INTEGER NOT NULL,
    term       TEXT    NOT NULL,
    PRIMARY KEY (profile_id, kind, position)
) WITHOUT ROWID;
INSERT INTO profile_terms_old (profile_id, kind, position, term)
    SELECT profile_id, kind, position, term FROM profile_terms;
DROP TABLE profile_terms;
ALTER TABLE profile_terms_old RENAME TO profile_terms;
