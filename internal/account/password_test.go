package account

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestHashEncodesParameters(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		p    Params
	}{
		{"owasp minimum", DefaultParams},
		{"raised", Params{MemoryKiB: 32768, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHasher(tt.p, 2)
			enc, err := h.Hash(ctx, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			got, salt, key, err := ParseHash(enc)
			if err != nil {
				t.Fatal(err)
			}
			if got.MemoryKiB != tt.p.MemoryKiB || got.Time != tt.p.Time || got.Threads != tt.p.Threads || len(salt) != 16 || len(key) != 32 {
				t.Fatalf("parsed %+v from %s", got, enc)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=") {
				t.Fatalf("not a PHC argon2id string: %s", enc)
			}
			if ok, rehash, err := h.Verify(ctx, "correct horse", enc); !ok || rehash || err != nil {
				t.Fatalf("verify own hash: ok=%v rehash=%v err=%v", ok, rehash, err)
			}
			if ok, _, _ := h.Verify(ctx, "correct horsE", enc); ok {
				t.Fatal("wrong password accepted")
			}
		})
	}
}

func TestRehashWhenParametersRaised(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(DefaultParams, 1)
	enc, _ := old.Hash(ctx, "long enough password")
	raised := DefaultParams
	raised.MemoryKiB = 2 * DefaultParams.MemoryKiB
	ok, rehash, err := NewHasher(raised, 1).Verify(ctx, "long enough password", enc)
	if !ok || !rehash || err != nil {
		t.Fatalf("ok=%v rehash=%v err=%v; want a match that asks for a rehash", ok, rehash, err)
	}
	if _, rehash, _ := NewHasher(raised, 1).Verify(ctx, "wrong", enc); rehash {
		t.Fatal("a failed check must not trigger a rehash")
	}
}

func TestParseHashRejectsMalformed(t *testing.T) {
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5",
	} {
		if _, _, _, err := ParseHash(enc); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("ParseHash(%q) = %v, want ErrMalformedHash", enc, err)
		}
	}
	// A malformed stored hash never matches, and costs a dummy hash.
	if ok, _, err := NewHasher(DefaultParams, 1).Verify(context.Background(), "x", "garbage"); ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(DefaultParams, 2)
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "anything at all"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a third hash ran while two were in progress: %v", err)
	}
}

func TestPolicy(t *testing.T) {
	p := NewPolicy()
	tests := []struct {
		password, email string
		ok              bool
	}{
		{"short", "", false},
		{"password", "", false},
		{"Password", "", false},
		{"qwertyuiop", "", false},
		{"iloveyou", "", false},
		{"sam@example.org", "sam@example.org", false},
		{strings.Repeat("a", 129), "", false},
		{strings.Repeat("é", 128), "", true},
		{"velvet kettle orbit", "", true},
		{"Tr0ub4dor&3x", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			if msg := p.Check(tt.password, tt.email); (msg == "") != tt.ok {
				t.Fatalf("Check(%q) = %q, want ok=%v", tt.password, msg, tt.ok)
			}
		})
	}
	if len(p.common) < 10000 {
		t.Fatalf("only %d common passwords loaded", len(p.common))
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"Sam@Example.org": true, " sam@example.org ": true, "sam": false, "sam@localhost": false,
		"Sam <sam@example.org>": false, "sam@example.org.": false, "": false,
	} {
		if _, ok := NormalizeEmail(in); ok != want {
			t.Errorf("NormalizeEmail(%q) ok=%v, want %v", in, ok, want)
		}
	}
}

// FuzzParseHash: stored hashes come from the database; whatever is there,
// parsing must not panic, and anything accepted must re-encode the same.
func FuzzParseHash(f *testing.F) {
	h := NewHasher(Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	enc, _ := h.Hash(context.Background(), "seed password")
	f.Add(enc)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := ParseHash(s)
		if err != nil {
			return
		}
		if again := h.encode(p, salt, key); again != s {
			// Accepted strings may differ only in base64 padding or
			// number formatting; they must still parse to the same.
			p2, salt2, key2, err := ParseHash(again)
			if err != nil || p2 != p || string(salt2) != string(salt) || string(key2) != string(key) {
				t.Fatalf("%q re-encodes to %q which parses differently", s, again)
			}
		}
	})
}
