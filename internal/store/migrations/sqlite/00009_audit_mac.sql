-- Audit links become HMACs under a key derived from the key file
-- (mac_version 1). Rows written before keep mac_version 0 (plain SHA-256)
-- until the server re-keys the chain from its first entry, the one update
-- the append-only guard lets through: the link and version, and nothing
-- else, of a row not yet keyed.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN mac_version INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER audit_log_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.mac_version = 0 AND NEW.mac_version = 1
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
    AND NEW.object = OLD.object AND NEW.ip = OLD.ip AND NEW.request_id = OLD.request_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_log_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
ALTER TABLE audit_log DROP COLUMN mac_version;
