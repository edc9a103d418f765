package web

import (
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/dashboard":             "/dashboard",
		"/search?near=Leeds":     "/search?near=Leeds",
		"":                       "",
		"https://evil.example/":  "",
		"//evil.example/":        "",
		"/\\evil.example/":       "",
		"javascript:alert(1)":    "",
		"/ok\r\nSet-Cookie: x=1": "",
		"dashboard":              "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimiterSlowsDownWithoutLockingOut(t *testing.T) {
	l := newLimiter(10, time.Minute)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		if ok, _ := l.allow("k", now); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := l.allow("k", now)
	if ok || wait <= 0 || wait > 6*time.Second+time.Millisecond {
		t.Fatalf("11th attempt: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Fatal("one key's limit affected another")
	}
	if ok, _ := l.allow("k", now.Add(wait)); !ok {
		t.Fatal("not allowed again after the advertised wait")
	}
	if ok, _ := l.allow("k", now.Add(wait)); ok {
		t.Fatal("a refused attempt must not be counted as a free token")
	}
}
