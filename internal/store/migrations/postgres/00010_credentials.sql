-- +goose Up
-- Credentials in full: the PostgreSQL twin of migrations/sqlite/00010,
-- which says why.
ALTER TABLE profile_memberships ADD COLUMN checked_at TIMESTAMPTZ;
ALTER TABLE profiles ADD COLUMN insurer TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN insurance_until DATE;
ALTER TABLE profiles ADD COLUMN insurance_checked_at TIMESTAMPTZ;
ALTER TABLE profiles ADD COLUMN details_changed_at TIMESTAMPTZ;
ALTER TABLE verification_requests ADD COLUMN name TEXT NOT NULL DEFAULT '';

UPDATE profile_memberships SET checked_at = (
    SELECT verified_at FROM profiles WHERE profiles.id = profile_memberships.profile_id);
UPDATE verification_requests SET name = (
    SELECT display_name FROM profiles WHERE profiles.id = verification_requests.profile_id);
UPDATE profiles SET (insurer, insurance_until, insurance_checked_at) = (
    SELECT r.insurer, r.insurance_expires, r.decided_at FROM verification_requests r
    WHERE r.profile_id = profiles.id AND r.status = 'approved' ORDER BY r.decided_at DESC, r.id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM verification_requests r WHERE r.profile_id = profiles.id AND r.status = 'approved');

-- +goose Down
ALTER TABLE verification_requests DROP COLUMN name;
ALTER TABLE profiles DROP COLUMN details_changed_at;
ALTER TABLE profiles DROP COLUMN insurance_checked_at;
ALTER TABLE profiles DROP COLUMN insurance_until;
ALTER TABLE profiles DROP COLUMN insurer;
ALTER TABLE profile_memberships DROP COLUMN checked_at;
