package importer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/directory"
)

// Existing is what the directory holds for a register membership
// imported before.
type Existing struct {
	ProfileID int64
	Digest    string
	// Claimed is a profile its therapist has taken over: their edits win
	// over the register's.
	Claimed bool
}

// Action is what applying an import does to one row.
type Action string

// Actions of a plan.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	// Kept is an imported profile that its therapist has claimed: an
	// import no longer changes it.
	Kept Action = "kept"
)

// Step is one row's part of a plan.
type Step struct {
	Entry
	Action    Action
	ProfileID int64
}

// Plan is what an import would do, row by row.
type Plan struct {
	Steps    []Step
	Problems []Problem
	Counts   map[Action]int
	// Invited and HadAccount count, once applied, the new profiles whose
	// therapist was sent a claim invitation, and those whose address
	// already had an account (left unclaimed: that person can be linked
	// to it by staff).
	Invited, HadAccount int
}

// Store is what an import needs from persistence.
type Store interface {
	RegisterEntries(ctx context.Context) (map[Key]Existing, error)
	PutRegisterEntry(ctx context.Context, k Key, profileID int64, digest string, now time.Time) error
	ProfileByID(ctx context.Context, id int64) (*directory.Profile, error)
}

// Profiles are the directory's validated writes.
type Profiles interface {
	Create(ctx context.Context, p *directory.Profile) error
	Update(ctx context.Context, p *directory.Profile) error
}

// Inviter invites the therapist of a new imported profile to claim it;
// account.Service is one.
type Inviter interface {
	HasAccount(ctx context.Context, email string) (bool, error)
	InviteToClaim(ctx context.Context, email, name, register string) (int64, error)
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, action, object string) error
}

// Importer plans and applies imports.
type Importer struct {
	Store    Store
	Profiles Profiles
	Audit    Auditor
	// Invite, when set, sends each new profile's therapist a claim
	// invitation (through the outbox, in the batch's unit of work).
	Invite Inviter
	// Tx makes each batch of rows one unit of work (the store).
	Tx  commit.Runner
	Now func() time.Time
}

// Plan compares entries with what earlier imports left.
func (im *Importer) Plan(ctx context.Context, entries []Entry, problems []Problem) (*Plan, error) {
	known, err := im.Store.RegisterEntries(ctx)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Problems: problems, Counts: map[Action]int{}}
	for _, e := range entries {
		s := Step{Entry: e, Action: Create}
		if ex, ok := known[e.Key]; ok {
			s.ProfileID = ex.ProfileID
			switch {
			case ex.Claimed:
				s.Action = Kept
			case ex.Digest == e.Digest:
				s.Action = Unchanged
			default:
				s.Action = Update
			}
		}
		plan.Steps = append(plan.Steps, s)
		plan.Counts[s.Action]++
	}
	return plan, nil
}

// batch is how many rows commit together: large enough that a register of
// thousands imports in seconds, small enough that a failure stops early.
const batch = 500

// Apply carries out a plan: creates and updates, batch by batch, each
// batch one unit of work with its register entries, and then one audit
// entry with the counts. A batch that fails is rolled back and stops the
// import; the batches before it stay (running the file again finishes
// the job, as they are then unchanged).
func (im *Importer) Apply(ctx context.Context, plan *Plan, source string) error {
	var work []Step
	for _, s := range plan.Steps {
		if s.Action == Create || s.Action == Update {
			work = append(work, s)
		}
	}
	for start := 0; start < len(work); start += batch {
		chunk := work[start:min(start+batch, len(work))]
		err := commit.Do(ctx, im.Tx, func(ctx context.Context) error {
			for _, s := range chunk {
				if err := im.apply(ctx, plan, s); err != nil {
					return fmt.Errorf("line %d: %w", s.Line, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	object := fmt.Sprintf("import:%s created:%d updated:%d unchanged:%d kept:%d rejected:%d", source,
		plan.Counts[Create], plan.Counts[Update], plan.Counts[Unchanged], plan.Counts[Kept], plan.Rejected())
	if err := im.Audit.Record(ctx, "import.apply", object); err != nil {
		return fmt.Errorf("import: audit: %w", err)
	}
	return nil
}

func (im *Importer) apply(ctx context.Context, plan *Plan, s Step) error {
	p := s.Profile
	if s.Action == Create {
		if im.Invite != nil {
			has, err := im.Invite.HasAccount(ctx, p.ContactEmail)
			if err != nil {
				return err
			}
			if has {
				plan.HadAccount++
			} else {
				if p.OwnerID, err = im.Invite.InviteToClaim(ctx, p.ContactEmail, p.DisplayName, s.Register); err != nil {
					return err
				}
				plan.Invited++
			}
		}
		if err := im.Profiles.Create(ctx, &p); err != nil {
			return err
		}
	} else {
		stored, err := im.Store.ProfileByID(ctx, s.ProfileID)
		if err != nil {
			return err
		}
		// What the register says replaces what the last import said; the
		// profile's identity, state and history stay.
		p.ID, p.Slug, p.Version, p.Verification, p.Memberships, p.Insurance = stored.ID, stored.Slug, stored.Version, stored.Verification, stored.Memberships, stored.Insurance
		p.Published, p.OwnerID, p.Statement, p.CreatedAt, p.Availability, p.AvailabilityConfirmedAt = stored.Published, stored.OwnerID, stored.Statement, stored.CreatedAt, stored.Availability, stored.AvailabilityConfirmedAt
		if err := im.Profiles.Update(ctx, &p); err != nil {
			return err
		}
	}
	return im.Store.PutRegisterEntry(ctx, s.Key, p.ID, s.Digest, im.Now().UTC())
}

// Rejected is how many rows have problems (a row may have several).
func (p *Plan) Rejected() int {
	lines := map[int]bool{}
	for _, pr := range p.Problems {
		lines[pr.Line] = true
	}
	return len(lines)
}

// Report writes the plan for a person: every problem by line, then the
// counts. applied words it as done rather than as what would happen.
func (p *Plan) Report(w io.Writer, applied bool) {
	probs := slices.Clone(p.Problems)
	slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
	for _, pr := range probs {
		fmt.Fprintln(w, pr)
	}
	verb := map[bool][4]string{false: {"would create", "would update", "would leave unchanged", "would keep (claimed by their therapist)"},
		true: {"created", "updated", "unchanged", "kept (claimed by their therapist)"}}[applied]
	fmt.Fprintf(w, "%d rows: %s %d, %s %d, %s %d, %s %d; rejected %d rows (%d problems)\n", len(p.Steps)+p.Rejected(),
		verb[0], p.Counts[Create], verb[1], p.Counts[Update], verb[2], p.Counts[Unchanged], verb[3], p.Counts[Kept], p.Rejected(), len(p.Problems))
	if applied && p.Invited+p.HadAccount > 0 {
		fmt.Fprintf(w, "claim invitations queued: %d; not sent because the address already has an account: %d\n", p.Invited, p.HadAccount)
	}
}
