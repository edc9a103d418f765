// Package enquiry is the domain of private messages from people seeking
// therapy to therapists. An enquiry can reveal someone's mental health, so
// its content is sealed at rest, never logged or emailed, readable only by
// the therapist it was sent to, and deleted after a retention period. Once
// the sender is told "sent", the enquiry and the emails announcing it are
// already durably stored: nothing acknowledged is ever lost.
package enquiry

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/confide-org/confide/internal/errs"
)

// ConsentVersion names the wording of the consent statement the sender
// ticks; it is stored with every enquiry. Change it whenever ConsentText
// changes.
const ConsentVersion = "2026-11-25"

// ConsentText is the statement the sender agrees to.
const ConsentText = "I agree that Confide stores this message securely and passes it only to this therapist, so that they can reply. It is deleted 12 months after the last activity, or sooner if I ask."

// Status is where an enquiry stands in the therapist's inbox.
type Status string

// The statuses.
const (
	New      Status = "new"
	Read     Status = "read"
	Replied  Status = "replied"
	Archived Status = "archived"
)

// Limits on the form.
const (
	MaxMessageLen = 5000
	MaxNameLen    = 100
	MaxPhoneLen   = 30
)

// Content is what the sender wrote: everything here is sealed.
type Content struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Phone   string `json:"phone,omitempty"`
	Message string `json:"message"`
	Format  string `json:"format,omitempty"` // preferred session format
}

// Enquiry is one message as stored. Content is nil until opened.
type Enquiry struct {
	ID        string // random; also bound into the ciphertext
	ProfileID int64
	IdemKey   string
	// IdemDigest is a keyed hash of the therapist and content the form
	// token was first used for ("" for enquiries stored before it was).
	IdemDigest     string
	SenderHash     string // keyed hash of the sender's address
	Sealed         Sealed
	ConsentVersion string
	ConsentAt      time.Time
	Status         Status
	CreatedAt      time.Time
	ReadAt         time.Time
	RepliedAt      time.Time
	ArchivedAt     time.Time
	LastActivityAt time.Time
	ReminderSentAt time.Time
	Content        *Content
}

// Reference is the sender's receipt number: the first ten characters of
// the id, grouped for reading aloud.
func (e *Enquiry) Reference() string { return Reference(e.ID) }

// Reference formats an id as a receipt number.
func Reference(id string) string {
	r := strings.ToUpper(id)
	if len(r) > 10 {
		r = r[:10]
	}
	if len(r) > 5 {
		r = r[:5] + "-" + r[5:]
	}
	return r
}

// NewID returns a random enquiry id (26 characters of base32).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Kinds of outbox message.
const (
	MsgTherapistNotice = "therapist_notice"
	MsgSenderReceipt   = "sender_receipt"
	MsgReminder        = "reminder"
	// MsgMail is any other email (account, verification, editorial),
	// carried sealed in the outbox row itself.
	MsgMail = "mail"
)

// Outbox is one email waiting to be sent (or sent, or given up on). Its
// id is the email's Message-ID, so a message delivered twice after a crash
// can be recognised as the same one.
type Outbox struct {
	ID          string
	EnquiryID   string
	Kind        string
	Attempts    int
	NextAttempt time.Time
	Status      string // pending, sent, dead
	LastError   string // SMTP status only, never addresses or content
	SentAt      time.Time
	CreatedAt   time.Time
	// Sealed is a MsgMail message's recipient, subject and body (empty
	// for enquiry mail, which is written from the enquiry when sent).
	Sealed Sealed
}

// FieldErrors reports problems with what was typed, field by field: the
// one field-error shape, errs.Fields.
type FieldErrors = errs.Fields

// ErrNotFound is wrapped by every error that reports a missing enquiry or
// outbox message (or one that belongs to someone else): the shared kind.
const ErrNotFound = errs.NotFound

// Errors particular to enquiries, each of a shared kind so that an
// unhandled one is still answered sensibly. A daily limit is an
// *errs.LimitError whose Limit is "therapist" or "sender".
var (
	// ErrSpam is a submission that failed a spam check (honeypot, too
	// fast, bad token).
	ErrSpam = errs.New(errs.Invalid, "enquiry refused as automated")
	// ErrClosed is a profile that cannot take enquiries; to the sender it
	// is a page that is not there.
	ErrClosed = errs.New(errs.NotFound, "this therapist cannot receive enquiries")
	// ErrFormUsed is a form token already used to send a different
	// message (or to another therapist): the new message is not sent,
	// and the sender must be told so rather than shown the first
	// message's receipt.
	ErrFormUsed = errs.New(errs.Conflict, "this form was already used for another message")
)

func plain(s string, maxN int, multiline bool) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= maxN && strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t'))
	}) < 0
}

// Check validates what the sender typed.
func Check(c *Content, consent string, formats []string) error {
	fe := FieldErrors{}
	c.Name = strings.Join(strings.Fields(c.Name), " ")
	c.Email = strings.TrimSpace(c.Email)
	c.Phone = strings.TrimSpace(c.Phone)
	c.Message = strings.TrimSpace(strings.ReplaceAll(c.Message, "\r\n", "\n"))
	switch {
	case c.Name == "":
		fe["name"] = "Enter your name (a first name is enough)"
	case !plain(c.Name, MaxNameLen, false):
		fe["name"] = fmt.Sprintf("Name must be %d characters or fewer", MaxNameLen)
	}
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 || !strings.Contains(c.Email[strings.LastIndex(c.Email, "@")+1:], ".") {
		fe["email"] = "Enter an email address in the correct format, like name@example.com, so the therapist can reply"
	}
	if c.Phone != "" && (!plain(c.Phone, MaxPhoneLen, false) || strings.Trim(c.Phone, "+0123456789 ()-") != "") {
		fe["phone"] = "Enter a phone number using digits, spaces and + ( ) - only, or leave it blank"
	}
	switch n := utf8.RuneCountInString(c.Message); {
	case n == 0:
		fe["message"] = "Write a message to the therapist"
	case n > MaxMessageLen:
		fe["message"] = fmt.Sprintf("Message must be %d characters or fewer (it is %d)", MaxMessageLen, n)
	case !plain(c.Message, MaxMessageLen, true):
		fe["message"] = "Message contains characters that cannot be sent"
	}
	if c.Format != "" && !slices.Contains(formats, c.Format) {
		fe["format"] = "Choose one of the ways this therapist works, or no preference"
	}
	if consent != ConsentVersion {
		fe["consent"] = "Tick the box to agree to how we handle your message, or we cannot send it"
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func marshal(c *Content) []byte {
	b, _ := json.Marshal(c)
	return b
}

// FormToken is the hidden value in the enquiry form: when it was issued
// (for the minimum fill time) and the idempotency key that makes a
// resubmitted form create one enquiry, signed so neither can be forged.
type FormToken struct {
	Issued  time.Time
	IdemKey string
}

// IssueToken makes a form token.
func IssueToken(kr *Keyring, now time.Time) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	v := strconv.FormatInt(now.Unix(), 10) + "." + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
	return v + "." + kr.Sign("form", v)
}

// ParseToken checks a form token's signature.
func ParseToken(kr *Keyring, s string) (FormToken, bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || len(s) > 200 || !kr.Verify("form", s[:i], s[i+1:]) {
		return FormToken{}, false
	}
	ts, key, ok := strings.Cut(s[:i], ".")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return FormToken{}, false
	}
	return FormToken{Issued: time.Unix(n, 0).UTC(), IdemKey: key}, true
}

// ErasureLink is the path a sender opens to have their enquiry erased.
func ErasureLink(kr *Keyring, id string) string {
	return "/enquiries/erase?id=" + id + "&sig=" + kr.Sign("erase", id)
}

// Store is what enquiries need from persistence.
type Store interface {
	// InsertEnquiry stores e and its outbox messages in one durable
	// transaction. If an enquiry with the same idempotency key exists, it
	// stores nothing and returns that one with ErrDuplicate.
	InsertEnquiry(ctx context.Context, e *Enquiry, out []Outbox) (*Enquiry, error)
	EnquiryByID(ctx context.Context, id string) (*Enquiry, error)
	EnquiriesFor(ctx context.Context, profileID int64) ([]Enquiry, error)
	SetEnquiryStatus(ctx context.Context, id string, s Status, now time.Time) error
	DeleteEnquiry(ctx context.Context, id string) error
	// CountSince counts enquiries to a profile, or from a sender hash,
	// since a time, for the daily limits.
	CountToProfileSince(ctx context.Context, profileID int64, since time.Time) (int, error)
	CountFromSenderSince(ctx context.Context, senderHash string, since time.Time) (int, error)
	DeleteInactiveBefore(ctx context.Context, cutoff time.Time) (int, error)
	UnansweredBefore(ctx context.Context, cutoff time.Time) ([]Enquiry, error)
	MarkReminded(ctx context.Context, id string, out Outbox, now time.Time) error
	AllSealed(ctx context.Context, fn func(id string, s Sealed) (Sealed, bool, error)) (int, error)
	ResponseStats(ctx context.Context, profileID int64, since time.Time) (Stats, error)
}

// ErrDuplicate reports a resubmitted form: the original is returned. It
// is a Conflict, told apart from others because Submit treats it as
// success.
var ErrDuplicate = errs.New(errs.Conflict, "enquiry already received")

// Stats are a profile's response figures over a period.
type Stats struct {
	Enquiries int
	Replied   int
	// FirstResponses are the times from enquiry to reply, for the median.
	FirstResponses []time.Duration
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
