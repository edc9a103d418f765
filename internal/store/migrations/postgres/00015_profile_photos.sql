-- +goose Up
-- A therapist's photo: one per profile, kept as the fixed sizes the site
-- serves (re-encoded from the upload's pixels, so no metadata survives).
-- It is shown at once; verifiers see new photos in their queue and may
-- reject one, which removes it (the audit log records who and why).
CREATE TABLE profile_photos (
    profile_id      BIGINT NOT NULL PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
    digest          TEXT   NOT NULL,
    alt             TEXT   NOT NULL,
    uploaded_at     timestamptz NOT NULL,
    reviewed_at     timestamptz,
    reviewed_by     BIGINT
);
CREATE INDEX profile_photos_unreviewed ON profile_photos (uploaded_at) WHERE reviewed_at IS NULL;
CREATE TABLE profile_photo_images (
    profile_id BIGINT  NOT NULL REFERENCES profile_photos (profile_id) ON DELETE CASCADE,
    size       INTEGER NOT NULL,
    jpeg       BYTEA   NOT NULL,
    PRIMARY KEY (profile_id, size)
);

-- +goose Down
DROP TABLE profile_photo_images;
DROP TABLE profile_photos;
