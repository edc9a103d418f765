package enquiry

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/confide-org/confide/internal/audit"
)

func TestSealRoundTripAndTamper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	kr, created, err := LoadOrCreateKeyring(path)
	if err != nil || !created {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o400 {
		t.Fatalf("key file mode %v (%v), want 0400", fi.Mode().Perm(), err)
	}
	if _, created, err := LoadOrCreateKeyring(path); err != nil || created {
		t.Fatal("a second start must read the same key file, not make another")
	}
	msg := []byte(`{"message":"I have been feeling low since the spring"}`)
	s := kr.Seal("id-one", msg)
	if bytes.Contains(s.Ciphertext, []byte("feeling low")) || s.KeyID != "k1" {
		t.Fatal("ciphertext shows the plaintext")
	}
	got, err := kr.Open("id-one", s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %q %v", got, err)
	}
	tamper := []struct {
		name string
		id   string
		s    func() Sealed
	}{
		{"flipped ciphertext byte", "id-one", func() Sealed { c := s; c.Ciphertext = bytes.Clone(s.Ciphertext); c.Ciphertext[30] ^= 1; return c }},
		{"flipped wrapped key byte", "id-one", func() Sealed { c := s; c.WrappedKey = bytes.Clone(s.WrappedKey); c.WrappedKey[30] ^= 1; return c }},
		{"moved to another enquiry", "id-two", func() Sealed { return s }},
		{"unknown key id", "id-one", func() Sealed { c := s; c.KeyID = "k9"; return c }},
		{"truncated", "id-one", func() Sealed { c := s; c.Ciphertext = s.Ciphertext[:10]; return c }},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kr.Open(tt.id, tt.s()); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %v, want ErrOpen", err)
			}
		})
	}
	// Rotation: a new current key; old data still opens, and re-wraps.
	kr2, err := AddKey(path)
	if err != nil || kr2.Current() != "k2" {
		t.Fatalf("rotate: %v %v", kr2, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o400 {
		t.Fatalf("rotated key file mode %v", fi.Mode().Perm())
	}
	if got, err := kr2.Open("id-one", s); err != nil || !bytes.Equal(got, msg) {
		t.Fatal("old data does not open after rotation")
	}
	s2, err := kr2.Rewrap("id-one", s)
	if err != nil || s2.KeyID != "k2" || !bytes.Equal(s2.Ciphertext, s.Ciphertext) {
		t.Fatalf("rewrap %v", err)
	}
	if got, err := kr2.Open("id-one", s2); err != nil || !bytes.Equal(got, msg) {
		t.Fatal("re-wrapped data does not open")
	}
	// Derived keys stay stable across rotation, so hashes and links still match.
	if kr.HashEmail("A@Example.org") != kr2.HashEmail("a@example.org") || !kr2.Verify("erase", "x", kr.Sign("erase", "x")) {
		t.Fatal("rotation changed derived keys")
	}
}

func TestFormToken(t *testing.T) {
	kr, _, _ := LoadOrCreateKeyring(filepath.Join(t.TempDir(), "k"))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tok := IssueToken(kr, now)
	ft, ok := ParseToken(kr, tok)
	if !ok || !ft.Issued.Equal(now) || len(ft.IdemKey) < 16 {
		t.Fatalf("%+v %v", ft, ok)
	}
	for _, bad := range []string{"", tok + "x", "1." + tok[2:], "nonsense.token.sig"} {
		if _, ok := ParseToken(kr, bad); ok {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	good := Content{Name: "Sam", Email: "sam@example.org", Phone: "+44 (0)113 496 0000", Message: "Hello,\nI would like to talk.", Format: "online"}
	c := good
	if err := Check(&c, ConsentVersion, []string{"online"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field, consent string
		edit                 func(*Content)
	}{
		{"no consent", "consent", "", func(*Content) {}},
		{"old consent", "consent", "2020-01-01", func(*Content) {}},
		{"no name", "name", ConsentVersion, func(c *Content) { c.Name = " " }},
		{"bad email", "email", ConsentVersion, func(c *Content) { c.Email = "sam@localhost" }},
		{"letters in phone", "phone", ConsentVersion, func(c *Content) { c.Phone = "call me" }},
		{"empty message", "message", ConsentVersion, func(c *Content) { c.Message = "" }},
		{"long message", "message", ConsentVersion, func(c *Content) { c.Message = string(bytes.Repeat([]byte("x"), MaxMessageLen+1)) }},
		{"format not offered", "format", ConsentVersion, func(c *Content) { c.Format = "phone" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			var fe FieldErrors
			if err := Check(&c, tt.consent, []string{"online"}); !errors.As(err, &fe) || fe[tt.field] == "" {
				t.Fatalf("Check = %v, want a %s message", err, tt.field)
			}
		})
	}
}

// TestAuditKey: the audit key survives key rotation (the chain must
// verify across it), differs between key files, and is not a key used
// for anything else.
func TestAuditKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	kr, _, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := kr.AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := LoadOrCreateKeyring(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := rotated.AuditKey()
	elsewhere, _ := other.AuditKey()
	if !reflect.DeepEqual(before, after) {
		t.Fatal("rotating the key file changed the audit key")
	}
	if reflect.DeepEqual(before, elsewhere) {
		t.Fatal("two key files gave the same audit key")
	}
	for _, purpose := range []string{"email", "form"} {
		if reflect.DeepEqual(before, mustKey(t, kr.derived(purpose))) {
			t.Fatalf("the audit key is the %s key", purpose)
		}
	}
	if reflect.DeepEqual(before, mustKey(t, kr.keys[kr.ids[0]])) {
		t.Fatal("the audit key is the master key")
	}
}

func mustKey(t *testing.T, b []byte) *audit.Key {
	t.Helper()
	k, err := audit.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestDemoPassword: the demo password is the same for the same key file
// and survives rotation (the walkthrough prints it at every start), and
// differs between key files.
func TestDemoPassword(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	kr, _, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := kr.DemoPassword()
	if err != nil || !regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`).MatchString(first) {
		t.Fatalf("demo password %q, %v", first, err)
	}
	rotated, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := rotated.DemoPassword()
	other, _, err := LoadOrCreateKeyring(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	different, _ := other.DemoPassword()
	if again != first || different == first {
		t.Fatalf("after rotation %q, another key file %q; first %q", again, different, first)
	}
}
