-- +goose Up
-- A keyed hash of the therapist and the content a form token was first
-- used for: the same form sent again with the same words is the same
-- enquiry, with different words it is refused rather than dropped.
-- Enquiries stored before this have '' and are matched on the token alone.
ALTER TABLE enquiries ADD COLUMN idem_digest TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE enquiries DROP COLUMN idem_digest;
