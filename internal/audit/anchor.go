package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/confide-org/confide/internal/errs"
)

// Head is an entry of the chain as an anchor records it: its sequence
// number, its link and when it was made. An anchor file holds one, as
// JSON: {"seq":1234,"mac":"…","at":"2026-11-25T10:00:00Z"}.
type Head struct {
	Seq int64     `json:"seq"`
	MAC string    `json:"mac"`
	At  time.Time `json:"at"`
}

// AnchorPath is where a server anchors the chain: beside its key file,
// which a database user cannot reach either.
func AnchorPath(keyFile string) string { return keyFile + ".anchor" }

// ReadAnchor reads an anchor file. A missing file is an error wrapping
// fs.ErrNotExist.
func ReadAnchor(path string) (*Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit anchor: %w", err)
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil || h.Seq < 1 || len(h.MAC) != len(Genesis) {
		return nil, fmt.Errorf("audit anchor %s: not an anchor file (%v)", path, err)
	}
	return &h, nil
}

// WriteAnchor replaces the anchor file at path with h, atomically (a
// temporary file renamed over it) and readable by its owner only.
func WriteAnchor(path string, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("audit anchor: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("audit anchor: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit anchor: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit anchor: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit anchor: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("audit anchor: %w", err)
	}
	return nil
}

// Anchor writes the head of the chain to the log and to the anchor file
// at path, and returns it. The log gets an ActionAnchor entry naming the
// head it follows, unless the head already is one (nothing happened
// since), and the file gets that entry: a head that was committed, so
// that every replica's anchor stays a prefix of the chain. Before
// replacing an existing anchor it checks that the chain still holds the
// anchored entry: if entries were removed or rewritten, the old anchor is
// the evidence, so it is kept and Anchor fails with a *BrokenLinkError.
func (l *Log) Anchor(ctx context.Context, path string) (Head, error) {
	prev, err := ReadAnchor(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Head{}, err
	}
	if prev != nil {
		e, err := l.store.AuditEntry(ctx, prev.Seq)
		switch {
		case errors.Is(err, errs.NotFound):
			return Head{}, &BrokenLinkError{Seq: prev.Seq, Reason: "missing, but the anchor file records it: not replacing the anchor"}
		case err != nil:
			return Head{}, err
		case e.Hash != prev.MAC:
			return Head{}, &BrokenLinkError{Seq: prev.Seq, Reason: "differs from the anchor file: not replacing the anchor"}
		}
	}
	head, err := l.store.AuditHead(ctx)
	if err != nil {
		return Head{}, err
	}
	if head == nil || head.Action != ActionAnchor {
		head = &Entry{At: l.now().UTC(), Actor: "system", Action: ActionAnchor, key: l.key}
		if err := l.store.AppendAudit(ctx, head); err != nil {
			return Head{}, fmt.Errorf("audit anchor: %w", err)
		}
	}
	h := Head{Seq: head.Seq, MAC: head.Hash, At: head.At.UTC()}
	if prev != nil && prev.Seq > h.Seq {
		return *prev, nil // another replica anchored later
	}
	return h, WriteAnchor(path, h)
}

// Rekey re-keys the log's chain if it is unkeyed (see Rekey), refusing if
// an anchor file exists at anchorPath. The log's store must be a Rekeyer.
func (l *Log) Rekey(ctx context.Context, anchorPath string) (int, error) {
	s, ok := l.store.(Rekeyer)
	if !ok {
		return 0, errors.New("audit: this store cannot re-key the chain")
	}
	anchor, err := ReadAnchor(anchorPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	return Rekey(ctx, s, l.key, anchor, l.now())
}
