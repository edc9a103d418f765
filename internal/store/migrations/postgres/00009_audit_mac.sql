-- Audit links become HMACs under a key derived from the key file
-- (mac_version 1). Rows written before keep mac_version 0 (plain SHA-256)
-- until the server re-keys the chain from its first entry, the one update
-- the append-only guard lets through: the link and version, and nothing
-- else, of a row not yet keyed.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN mac_version SMALLINT NOT NULL DEFAULT 0;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.mac_version = 0 AND NEW.mac_version = 1
            AND (NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.object, NEW.ip, NEW.request_id)
                IS NOT DISTINCT FROM (OLD.seq, OLD.at, OLD.actor, OLD.action, OLD.object, OLD.ip, OLD.request_id) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
ALTER TABLE audit_log DROP COLUMN mac_version;
