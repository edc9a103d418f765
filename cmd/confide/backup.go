package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/store"
)

// backup is `confide backup`: VACUUM INTO a temporary file beside the
// output, integrity-check it, then either rename it into place or encrypt
// it to an age recipient and remove the plain copy.
func backup(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Out == "" {
		return errors.New("--out is required")
	}
	if _, err := os.Stat(cfg.Out); err == nil {
		return fmt.Errorf("%s already exists", cfg.Out)
	}
	var recipient age.Recipient
	if cfg.AgeRecipient != "" {
		r, err := age.ParseX25519Recipient(cfg.AgeRecipient)
		if err != nil {
			return fmt.Errorf("--age-recipient: %w", err)
		}
		recipient = r
	}
	if cfg.DatabaseURL != "" {
		return store.ErrUsePgDump
	}
	db, err := store.Open(ctx, cfg.DB, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	tmp := cfg.Out + ".tmp-plain"
	_ = os.Remove(tmp)
	defer os.Remove(tmp)
	if err := db.Backup(ctx, tmp); err != nil {
		return err
	}
	if recipient == nil {
		if err := os.Rename(tmp, cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written to %s (integrity check ok, not encrypted)\n", cfg.Out)
		return nil
	}
	if err := encryptFile(tmp, cfg.Out, recipient); err != nil {
		os.Remove(cfg.Out)
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (integrity check ok, encrypted with age)\n", cfg.Out)
	return nil
}

func encryptFile(src, dst string, r age.Recipient) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w, err := age.Encrypt(out, r)
	if err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		out.Close()
		return err
	}
	if err := w.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// restore is `confide restore`: decrypt if needed, check integrity, then
// move into place (refusing to replace a database unless --force).
func restore(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.DatabaseURL != "" || store.IsPostgresURL(cfg.DB) {
		return errors.New("confide restore puts a SQLite backup in place; on PostgreSQL restore a pg_dump with pg_restore (or move a SQLite directory across with confide migrate-store)")
	}
	if cfg.From == "" {
		return errors.New("--from is required")
	}
	if _, err := os.Stat(cfg.DB); err == nil && !cfg.Force {
		return fmt.Errorf("%s exists: stop the server and use --force to replace it", cfg.DB)
	}
	raw, err := os.ReadFile(cfg.From)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(raw, []byte("age-encryption.org/")) {
		if cfg.AgeIdentity == "" {
			return errors.New("the backup is encrypted: give --age-identity")
		}
		idText, err := os.ReadFile(cfg.AgeIdentity)
		if err != nil {
			return err
		}
		ids, err := age.ParseIdentities(strings.NewReader(string(idText)))
		if err != nil {
			return fmt.Errorf("--age-identity: %w", err)
		}
		r, err := age.Decrypt(bytes.NewReader(raw), ids...)
		if err != nil {
			return fmt.Errorf("decrypt backup: %w", err)
		}
		if raw, err = io.ReadAll(r); err != nil {
			return err
		}
	}
	tmp := filepath.Join(filepath.Dir(cfg.DB), "."+filepath.Base(cfg.DB)+".restoring")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := store.CheckFile(ctx, tmp); err != nil {
		return err
	}
	// The index snapshot beside the old database describes that one; a
	// restored copy may reuse its change-feed positions for other changes.
	for _, suffix := range []string{"-wal", "-shm", ".index"} {
		_ = os.Remove(cfg.DB + suffix)
	}
	if err := os.Rename(tmp, cfg.DB); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s (integrity check ok)\n", cfg.DB, cfg.From)
	return nil
}

// rotateKeys is `confide keys rotate`.
func rotateKeys(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	db, err := store.Open(ctx, cfg.storeDSN(), newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	kr, err := enquiry.AddKey(cfg.KeyFile)
	if err != nil {
		return err
	}
	n, err := enquiry.RotateKeys(ctx, db, kr)
	if err != nil {
		return fmt.Errorf("re-wrapped %d enquiries, then: %w", n, err)
	}
	fmt.Fprintf(stdout, "new key %s is current; re-wrapped %d enquiries\n", kr.Current(), n)
	return nil
}
