-- +goose Up
-- Published contact details: the PostgreSQL twin of
-- migrations/sqlite/00014, which says why.
ALTER TABLE profiles ADD COLUMN website TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN public_email TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE profiles DROP COLUMN public_email;
ALTER TABLE profiles DROP COLUMN phone;
ALTER TABLE profiles DROP COLUMN website;
