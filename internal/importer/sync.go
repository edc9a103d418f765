package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/audit"
	"github.com/confide-org/confide/internal/commit"
	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/verify"
)

// Register sync (`confide import register --body B FILE`) holds the
// directory to a professional body's own member list: a membership a
// verifier once found on the register but that the body's current list
// leaves out, or lists as lapsed or suspended, is no longer shown as
// verified, and a profile it was the only membership of leaves search at
// once. A membership dropped that way and later listed as current again is
// never restored by the list alone: it goes back to the verification
// queue, because a person checks credentials, not a spreadsheet.

// Held is a membership of the body that a verifier approved, as the
// directory holds it now.
type Held struct {
	ProfileID int64
	Slug      string
	Number    string
	Level     string
	State     directory.VerificationState
	// Memberships is how many memberships (of any body) the profile holds.
	Memberships int
	// Email is where the therapist is told: their account's address, or
	// the profile's contact address when nobody has claimed it.
	Email string
}

// Lapsed is a membership a sync took off a profile, kept so that a later
// list showing it as current again sends it to the verification queue.
type Lapsed struct {
	Number    string
	ProfileID int64
	Level     string
	Standing  Standing
	LapsedAt  time.Time
	// Requeued is set once a later list showed it as current and it went
	// back to a verifier (or was found verified again already).
	Requeued bool
}

// SyncStore is what a register sync needs from persistence.
type SyncStore interface {
	// HeldMemberships lists every profile's membership of body.
	HeldMemberships(ctx context.Context, body string) ([]Held, error)
	// RegisterLapses lists body's memberships that a sync took off.
	RegisterLapses(ctx context.Context, body string) ([]Lapsed, error)
	// PutRegisterLapse records l (again, as not requeued, if the
	// membership had lapsed before).
	PutRegisterLapse(ctx context.Context, body string, l Lapsed) error
	// MarkRequeued records that a lapsed membership went back to the
	// queue as request requestID (0: none was needed).
	MarkRequeued(ctx context.Context, body, number string, requestID int64, now time.Time) error
	ProfileByID(ctx context.Context, id int64) (*directory.Profile, error)
	LatestRequest(ctx context.Context, profileID int64) (*verify.Request, error)
	// SubmitRequest stores a pending request (withdrawing the profile's
	// pending ones: a sync only submits for a profile that has none).
	SubmitRequest(ctx context.Context, r *verify.Request) error
	// LockRegisterSync holds other syncs off until the unit of work ends.
	LockRegisterSync(ctx context.Context) error
}

// Mailer queues one email; enquiry.Mailer writes it to the durable outbox
// inside the caller's unit of work.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Sync plans and applies register syncs.
type Sync struct {
	Store    SyncStore
	Profiles Profiles
	Audit    Auditor
	Mail     Mailer
	// Tx makes a whole sync one unit of work (the store): every lapse,
	// its audit entry and its email, every requeue and the run's own
	// audit entry commit together or not at all.
	Tx       commit.Runner
	Now      func() time.Time
	SiteName string
	BaseURL  string
}

// MaxLapseShare is the largest share of a body's verified memberships one
// list may take off without --force: a list that would lapse more than
// half is far likelier to be a truncated export, or the wrong file, than
// half a profession leaving at once.
const MaxLapseShare = 0.5

// LapseStep is a verified membership the list no longer shows as current.
type LapseStep struct {
	Held
	Standing Standing // absent, lapsed or suspended
	Line     int      // the list's line for it, or 0 when absent
	// Delists is true when it is the only membership of a verified
	// profile, which then leaves search.
	Delists bool
}

// RequeueKind is what a membership that lapsed and is listed as current
// again comes to.
type RequeueKind string

// The requeue kinds.
const (
	// Queue: a pending request goes to the verifiers.
	Queue RequeueKind = "queue"
	// Waiting: the therapist has already sent evidence for this body,
	// which is in the queue; nothing more is needed.
	Waiting RequeueKind = "waiting"
	// Reverified: a verifier has approved the membership again since it
	// lapsed.
	Reverified RequeueKind = "reverified"
	// Deferred: the profile has a pending request about another body,
	// which a new one would withdraw; a later sync queues it once that
	// one is decided. Nothing is written.
	Deferred RequeueKind = "deferred"
)

// RequeueStep is a lapsed membership listed as current again.
type RequeueStep struct {
	Lapsed
	Slug string
	Line int
	Kind RequeueKind
	// RequestID is the queued (or already waiting) request, once applied.
	RequestID int64
}

// SyncPlan is what a sync would do.
type SyncPlan struct {
	List   *List
	Source string
	// Held counts the body's verified memberships in the directory;
	// Current those of them the list shows as current; Unknown the
	// current members of the list the directory holds no membership for.
	Held, Current, Unknown int
	Lapses                 []LapseStep
	Requeues               []RequeueStep
	// Refusal says why the plan may not be applied without force.
	Refusal string
	Forced  bool
	// Told counts, once applied, the emails queued.
	Told int
}

// Delists counts the profiles the plan takes out of search.
func (p *SyncPlan) Delists() int {
	n := 0
	for _, l := range p.Lapses {
		if l.Delists {
			n++
		}
	}
	return n
}

// requeues counts the requeue steps of kind k.
func (p *SyncPlan) requeues(k RequeueKind) int {
	n := 0
	for _, r := range p.Requeues {
		if r.Kind == k {
			n++
		}
	}
	return n
}

// Changes reports whether applying the plan writes anything.
func (p *SyncPlan) Changes() bool {
	return len(p.Lapses) > 0 || len(p.Requeues) > p.requeues(Deferred)
}

// Plan compares list with the directory. force lets a plan that lapses
// more than MaxLapseShare of the body's verified memberships be applied.
func (s *Sync) Plan(ctx context.Context, list *List, source string, force bool) (*SyncPlan, error) {
	body := list.Body.Slug
	held, err := s.Store.HeldMemberships(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("register sync: %w", err)
	}
	lapses, err := s.Store.RegisterLapses(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("register sync: %w", err)
	}
	plan := &SyncPlan{List: list, Source: source, Held: len(held), Forced: force}
	known := map[string]bool{}
	for _, h := range held {
		h.Number = verify.NormalizeNumber(h.Number)
		known[h.Number] = true
		m, listed := list.Members[h.Number]
		if listed && m.Standing == StandingCurrent {
			plan.Current++
			continue
		}
		step := LapseStep{Held: h, Standing: StandingAbsent, Delists: h.State == directory.Verified && h.Memberships == 1}
		if listed {
			step.Standing, step.Line = m.Standing, m.Line
		}
		plan.Lapses = append(plan.Lapses, step)
	}
	for _, l := range lapses {
		known[l.Number] = true
		line, current := list.Current(l.Number)
		if l.Requeued || !current {
			continue
		}
		p, err := s.Store.ProfileByID(ctx, l.ProfileID)
		if err != nil {
			return nil, fmt.Errorf("register sync: %w", err)
		}
		latest, err := s.latest(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		plan.Requeues = append(plan.Requeues, RequeueStep{Lapsed: l, Slug: p.Slug, Line: line, Kind: requeueKind(p, latest, body)})
	}
	for n, m := range list.Members {
		if m.Standing == StandingCurrent && !known[n] {
			plan.Unknown++
		}
	}
	slices.SortFunc(plan.Lapses, func(a, b LapseStep) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(a.ProfileID, b.ProfileID))
	})
	slices.SortFunc(plan.Requeues, func(a, b RequeueStep) int { return cmp.Compare(a.Number, b.Number) })
	if n := len(plan.Lapses); float64(n) > MaxLapseShare*float64(plan.Held) {
		plan.Refusal = fmt.Sprintf("this list would take %d of the directory's %d verified %s memberships (%.0f%%) off their profiles: more than half looks like a truncated or wrong export. Check the file; if it is right, run again with --force",
			n, plan.Held, list.Body.Abbreviation, 100*float64(n)/float64(plan.Held))
	}
	return plan, nil
}

// KnownNumbers returns a ListReader.Known for body: the numbers of its
// memberships the directory holds or a sync has lapsed, normalised.
func (s *Sync) KnownNumbers(ctx context.Context, body string) (func(string) bool, error) {
	held, err := s.Store.HeldMemberships(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("register sync: %w", err)
	}
	lapses, err := s.Store.RegisterLapses(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("register sync: %w", err)
	}
	known := make(map[string]bool, len(held)+len(lapses))
	for _, h := range held {
		known[verify.NormalizeNumber(h.Number)] = true
	}
	for _, l := range lapses {
		known[l.Number] = true
	}
	return func(n string) bool { return known[n] }, nil
}

// requeueKind decides what a lapsed membership listed as current again
// comes to, from the profile and its newest request as they are now.
func requeueKind(p *directory.Profile, latest *verify.Request, body string) RequeueKind {
	if _, held := p.MembershipOf(body); held {
		return Reverified
	}
	if latest != nil && latest.Status == verify.StatusPending {
		if latest.Body == body {
			return Waiting
		}
		return Deferred
	}
	return Queue
}

func (s *Sync) latest(ctx context.Context, profileID int64) (*verify.Request, error) {
	r, err := s.Store.LatestRequest(ctx, profileID)
	if errors.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register sync: %w", err)
	}
	return r, nil
}

// ErrRefused is why Apply did nothing: rows with problems, or a list that
// would lapse too much without force.
var ErrRefused = errs.New(errs.Invalid, "nothing was changed")

// Apply carries out a plan as one unit of work. It refuses a plan whose
// list has any problem (a member on a rejected row would look absent and
// lose their verification by a typing mistake) and one with a Refusal not
// forced. A plan that changes nothing writes nothing, not even an audit
// entry, so running the same list twice leaves the second run without a
// trace in the database.
func (s *Sync) Apply(ctx context.Context, plan *SyncPlan) error {
	if n := plan.List.rejected(); n > 0 {
		return fmt.Errorf("%d rows of the list have problems (listed above), and a member on a rejected row would look absent; fix the file and run again: %w", n, ErrRefused)
	}
	if plan.Refusal != "" && !plan.Forced {
		return fmt.Errorf("%s: %w", plan.Refusal, ErrRefused)
	}
	if !plan.Changes() {
		return nil
	}
	body := plan.List.Body
	err := commit.Do(ctx, s.Tx, func(ctx context.Context) error {
		plan.Told = 0
		// One sync at a time; each step then re-reads its profile, so a
		// plan another run has overtaken fails instead of acting twice.
		if err := s.Store.LockRegisterSync(ctx); err != nil {
			return err
		}
		now := s.Now().UTC()
		for i := range plan.Lapses {
			if err := s.lapse(ctx, plan, &plan.Lapses[i], now); err != nil {
				return fmt.Errorf("%s membership %s (profile %d): %w", body.Abbreviation, plan.Lapses[i].Number, plan.Lapses[i].ProfileID, err)
			}
		}
		for i := range plan.Requeues {
			if err := s.requeue(ctx, body.Slug, &plan.Requeues[i], now); err != nil {
				return fmt.Errorf("%s membership %s (profile %d): %w", body.Abbreviation, plan.Requeues[i].Number, plan.Requeues[i].ProfileID, err)
			}
		}
		object := fmt.Sprintf("register:%s file:%s listed:%d held:%d current:%d lapsed:%d delisted:%d requeued:%d waiting:%d reverified:%d deferred:%d told:%d forced:%t",
			body.Slug, plan.Source, len(plan.List.Members), plan.Held, plan.Current, len(plan.Lapses), plan.Delists(),
			plan.requeues(Queue), plan.requeues(Waiting), plan.requeues(Reverified), plan.requeues(Deferred), plan.Told, plan.Forced && plan.Refusal != "")
		return s.Audit.Record(ctx, "register.sync", object)
	})
	if err != nil {
		return fmt.Errorf("register sync (nothing was changed): %w", err)
	}
	return nil
}

// lapse takes one membership off its profile, records it, audits it and
// tells the therapist.
func (s *Sync) lapse(ctx context.Context, plan *SyncPlan, st *LapseStep, now time.Time) error {
	body := plan.List.Body
	p, err := s.Store.ProfileByID(ctx, st.ProfileID)
	if err != nil {
		return err
	}
	held, delisted := verify.Lapse(p, body.Slug)
	if !held {
		// Changed since the plan was made: no longer ours to lapse.
		return fmt.Errorf("the profile no longer holds it (changed while the sync ran; run it again): %w", errs.Conflict)
	}
	st.Delists = delisted
	if err := s.Profiles.Update(ctx, p); err != nil {
		return err
	}
	if err := s.Store.PutRegisterLapse(ctx, body.Slug, Lapsed{Number: st.Number, ProfileID: p.ID, Level: st.Level, Standing: st.Standing, LapsedAt: now}); err != nil {
		return err
	}
	if err := s.Audit.Record(ctx, "register.lapse", fmt.Sprintf("%s body:%s number:%s status:%s delisted:%t",
		audit.Profile(p.ID), body.Slug, st.Number, st.Standing, delisted)); err != nil {
		return err
	}
	if st.Email == "" {
		return nil
	}
	subject, text := s.lapseEmail(plan, st, p, delisted, now)
	if err := s.Mail.Send(ctx, st.Email, subject, text); err != nil {
		return err
	}
	plan.Told++
	return nil
}

// lapseEmail is the notice to the therapist of a lapsed membership: what
// the list said, what changed on the profile (p, after the lapse), and
// what to do if the list is wrong.
func (s *Sync) lapseEmail(plan *SyncPlan, st *LapseStep, p *directory.Profile, delisted bool, now time.Time) (string, string) {
	b := plan.List.Body
	said := map[Standing]string{
		StandingAbsent:    "does not include your membership number " + st.Number,
		StandingLapsed:    "shows your membership " + st.Number + " as lapsed",
		StandingSuspended: "shows your membership " + st.Number + " as suspended",
	}[st.Standing]
	site := cmp.Or(s.SiteName, "Confide")
	var what string
	switch {
	case delisted:
		what = " It was the only verified membership on your profile, so your profile has left search until it is verified again."
	case p.Verification.State == directory.Verified:
		what = " Your other verified memberships still show, and your profile stays in search."
	}
	return fmt.Sprintf("Your %s membership is no longer shown as verified", b.Abbreviation),
		fmt.Sprintf("%s's member list, which %s received on %s, %s. We have therefore stopped showing that membership as verified on your profile.%s\n\n"+
			"If this is a mistake (you renewed recently, say), sign in and submit up-to-date evidence; a verifier will check it against the register: %s/dashboard/verification\n\n"+
			"If a later list from %s shows you as a current member again, your membership goes back to our verifiers to check; it is not restored automatically.\n",
			b.Abbreviation, site, now.Format("2 January 2006"), said, what, s.BaseURL, b.Abbreviation)
}

// requeue sends one lapsed membership, listed as current again, back to a
// verifier (re-deciding the kind on the profile as it is now).
func (s *Sync) requeue(ctx context.Context, body string, st *RequeueStep, now time.Time) error {
	p, err := s.Store.ProfileByID(ctx, st.ProfileID)
	if err != nil {
		return err
	}
	latest, err := s.latest(ctx, p.ID)
	if err != nil {
		return err
	}
	st.Kind = requeueKind(p, latest, body)
	switch st.Kind {
	case Deferred:
		return nil
	case Reverified:
	case Waiting:
		st.RequestID = latest.ID
	case Queue:
		was := p.Verification.State
		r := verify.Requeue(p, latest, body, st.Number, st.Level, now)
		if err := s.Store.SubmitRequest(ctx, r); err != nil {
			return err
		}
		st.RequestID = r.ID
		if p.Verification.State != was {
			if err := s.Profiles.Update(ctx, p); err != nil {
				return err
			}
		}
		if err := s.Audit.Record(ctx, "register.requeue", fmt.Sprintf("%s request:%d body:%s number:%s", audit.Profile(p.ID), r.ID, body, st.Number)); err != nil {
			return err
		}
	}
	return s.Store.MarkRequeued(ctx, body, st.Number, st.RequestID, now)
}

// rejected counts the list's rows with problems (a row may have several).
func (l *List) rejected() int {
	lines := map[int]bool{}
	for _, pr := range l.Problems {
		lines[pr.Line] = true
	}
	return len(lines)
}

// Refused reports whether Apply would refuse the plan.
func (p *SyncPlan) Refused() bool {
	return p.List.rejected() > 0 || (p.Refusal != "" && !p.Forced)
}

// Report writes the plan for a person: every problem by line, then each
// membership that lapses or goes back to the queue, then the counts.
// applied words it as done rather than as what would happen.
func (p *SyncPlan) Report(w io.Writer, applied bool) {
	for _, pr := range p.List.Problems {
		fmt.Fprintln(w, pr)
	}
	b := p.List.Body.Abbreviation
	would := func(now, then string) string {
		if applied {
			return now
		}
		return then
	}
	fmt.Fprintf(w, "%s list %s: %d rows, %d memberships listed, %d rejected rows (%d problems); the directory holds %d verified %s memberships\n",
		b, p.Source, p.List.Rows, len(p.List.Members), p.List.rejected(), len(p.List.Problems), p.Held, b)
	for _, l := range p.Lapses {
		where := "absent from the list"
		if l.Line > 0 {
			where = fmt.Sprintf("line %d: %s", l.Line, l.Standing)
		}
		out := ""
		if l.Delists {
			out = would(", left search", ", would leave search")
		}
		fmt.Fprintf(w, "%s %s %s (profile %d, %s)%s: %s\n", would("lapsed", "would lapse"), b, l.Number, l.ProfileID, l.Slug, out, where)
	}
	for _, r := range p.Requeues {
		var what string
		switch r.Kind {
		case Queue:
			what = would(fmt.Sprintf("sent back to the verification queue (request %d)", r.RequestID), "would go back to the verification queue")
		case Waiting:
			what = "already waiting in the verification queue (the therapist's own evidence)"
		case Reverified:
			what = "verified again since it lapsed: nothing to queue"
		case Deferred:
			what = "not queued yet: the profile has evidence for another body waiting; run the sync again once a verifier has decided it"
		}
		fmt.Fprintf(w, "current again %s %s (profile %d, %s), line %d: %s\n", b, r.Number, r.ProfileID, r.Slug, r.Line, what)
	}
	fmt.Fprintf(w, "%s: %d verified memberships current, %d %s (%d profiles %s search), %d %s to the verification queue; %d current members hold no membership here\n",
		would("done", "plan"), p.Current, len(p.Lapses), would("lapsed", "would lapse"), p.Delists(), would("left", "would leave"),
		p.requeues(Queue), would("sent back", "would go back"), p.Unknown)
	if applied && p.Changes() {
		fmt.Fprintf(w, "emails queued: %d\n", p.Told)
	}
	switch {
	case p.Refusal != "" && p.Forced:
		fmt.Fprintf(w, "--force: %s\n", strings.SplitN(p.Refusal, ". ", 2)[0])
	case p.Refusal != "":
		fmt.Fprintf(w, "refused: %s\n", p.Refusal)
	}
}
