-- +goose Up
-- Session times (weekday evenings, Saturdays, Sundays) belong to the
-- therapist, not to a practice: they become profile_terms of kind 'time'.
-- A practice's evenings flag becomes 'evenings'; its weekends flag becomes
-- 'saturdays' only, since nobody ever said they work Sundays.
ALTER TABLE profile_terms DROP CONSTRAINT profile_terms_kind_check;
ALTER TABLE profile_terms ADD CONSTRAINT profile_terms_kind_check
    CHECK (kind IN ('approach', 'issue', 'client', 'format', 'language', 'time'));

INSERT INTO profile_terms (profile_id, kind, position, term)
    SELECT profile_id, 'time', 0, 'evenings' FROM practice_locations
    GROUP BY profile_id HAVING bool_or(evenings);
INSERT INTO profile_terms (profile_id, kind, position, term)
    SELECT profile_id, 'time', bool_or(evenings)::int, 'saturdays' FROM practice_locations
    GROUP BY profile_id HAVING bool_or(weekends);

ALTER TABLE practice_locations DROP COLUMN evenings;
ALTER TABLE practice_locations DROP COLUMN weekends;

-- +goose Down
ALTER TABLE practice_locations ADD COLUMN evenings BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE practice_locations ADD COLUMN weekends BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE practice_locations l SET
    evenings = EXISTS (SELECT 1 FROM profile_terms t WHERE t.profile_id = l.profile_id AND t.kind = 'time' AND t.term = 'evenings'),
    weekends = EXISTS (SELECT 1 FROM profile_terms t WHERE t.profile_id = l.profile_id AND t.kind = 'time' AND t.term IN ('saturdays', 'sundays'));
DELETE FROM profile_terms WHERE kind = 'time';
ALTER TABLE profile_terms DROP CONSTRAINT profile_terms_kind_check;
ALTER TABLE profile_terms ADD CONSTRAINT profile_terms_kind_check
    CHECK (kind IN ('approach', 'issue', 'client', 'format', 'language'));
