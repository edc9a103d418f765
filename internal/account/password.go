package account

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. The defaults are the OWASP
// minimum (19 MiB, 2 passes, 1 lane); an operator may raise them, and
// stored hashes with lower costs are replaced at the next sign-in.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   uint32
	KeyLen    uint32
}

// DefaultParams is the OWASP Password Storage Cheat Sheet minimum for
// argon2id.
var DefaultParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Below reports whether p costs less than want in any dimension, which is
// when a stored hash should be recomputed.
func (p Params) Below(want Params) bool {
	return p.MemoryKiB < want.MemoryKiB || p.Time < want.Time || p.Threads < want.Threads || p.KeyLen < want.KeyLen
}

// Password length limits. Long passphrases are welcome; the upper bound
// only keeps a request from making us hash megabytes. Nothing is ever
// truncated: a password over the limit is refused.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// ErrMalformedHash reports a stored hash that is not an argon2id PHC string.
var ErrMalformedHash = errors.New("malformed password hash")

// Hasher computes and checks argon2id hashes, at most Concurrency at a
// time: each takes ~19 MiB and a core for tens of milliseconds, so an
// unbounded number would let a burst of sign-ins exhaust the server.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher with the given parameters and concurrency.
func NewHasher(p Params, concurrency int) *Hasher {
	h := &Hasher{params: p, slots: make(chan struct{}, max(1, concurrency))}
	h.dummy = h.encode(p, make([]byte, p.SaltLen), argon2.IDKey([]byte("confide-dummy"), make([]byte, p.SaltLen), p.Time, p.MemoryKiB, p.Threads, p.KeyLen))
	return h
}

// Params returns the parameters new hashes get.
func (h *Hasher) Params() Params { return h.params }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	return h.encode(h.params, salt, key), nil
}

func (h *Hasher) encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded, and whether encoded
// was made with weaker parameters than the Hasher's (so it should be
// replaced). An empty or malformed encoded hash is checked against a dummy
// hash so that the time taken does not reveal whether an account exists.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	p, salt, key, perr := ParseHash(encoded)
	if perr != nil {
		p, salt, key, _ = ParseHash(h.dummy)
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	match := subtle.ConstantTimeCompare(got, key) == 1
	if perr != nil {
		return false, false, nil
	}
	return match, match && p.Below(h.params), nil
}

// ParseHash reads the parameters, salt and key of a PHC argon2id string.
func ParseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformedHash)
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

//go:embed data/common-passwords.txt
var commonPasswordsText string

// Policy decides which passwords are acceptable: NIST SP 800-63B style,
// length and a deny-list of common passwords, no composition rules.
type Policy struct {
	common map[string]bool
}

// NewPolicy loads the embedded list of common passwords.
func NewPolicy() *Policy {
	p := &Policy{common: make(map[string]bool, 12000)}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			p.common[strings.ToLower(w)] = true
		}
	}
	return p
}

// Check returns a message for the person choosing password, or "" when it
// is acceptable. email is refused as a password too.
func (p *Policy) Check(password, email string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return "Password contains characters that cannot be used"
	case n < MinPasswordLen:
		return fmt.Sprintf("Password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("Password must be %d characters or fewer", MaxPasswordLen)
	case p.common[strings.ToLower(password)]:
		return "This password is one of the most commonly used, so it is easy to guess. Choose another, for example three or four unrelated words"
	case email != "" && strings.EqualFold(password, email):
		return "Password must not be your email address"
	}
	return ""
}
