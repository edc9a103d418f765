-- +goose Up
-- Credentials in full. Each membership carries the date a verifier last
-- found it on its register (a therapist in two bodies is checked twice);
-- the profile carries the insurance last verified and, while a change the
-- therapist made to a checked detail waits for a verifier, when it was
-- made. A request names the person the verifier must look for, so a
-- renamed therapist's new name is checked before it is shown.
ALTER TABLE profile_memberships ADD COLUMN checked_at TEXT;
ALTER TABLE profiles ADD COLUMN insurer TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN insurance_until TEXT;
ALTER TABLE profiles ADD COLUMN insurance_checked_at TEXT;
ALTER TABLE profiles ADD COLUMN details_changed_at TEXT;
ALTER TABLE verification_requests ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- Until now a profile had one check date for everything it listed, and a
-- request was always about the profile's current name.
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
