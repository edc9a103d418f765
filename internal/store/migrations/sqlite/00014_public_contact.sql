-- +goose Up
-- Contact details a therapist chooses to publish beside the enquiry
-- form: a website, a phone number and an email address to show. Each is
-- optional ('' when not given) and public once set, unlike contact_email,
-- which stays private and is where enquiry notices go.
ALTER TABLE profiles ADD COLUMN website TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE profiles ADD COLUMN public_email TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE profiles DROP COLUMN public_email;
ALTER TABLE profiles DROP COLUMN phone;
ALTER TABLE profiles DROP COLUMN website;
