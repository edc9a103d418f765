package web

import (
	"testing"
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
		// Bypasses browsers forgive (issue 13): each must stay local.
		"/\t/evil.example":          "",
		"/%09/evil.example":         "",
		"/\n/evil.example":          "",
		"/%0A/evil.example":         "",
		"/%0D/evil.example":         "",
		"/%2F/evil.example":         "",
		"/%2f/evil.example":         "",
		"/%5C/evil.example":         "",
		"/%5c%5cevil.example":       "",
		"\\/evil.example":           "",
		"/\\/evil.example":          "",
		"https:evil.example":        "",
		"https://evil.example":      "",
		"javascript:alert(1)//":     "",
		"/@evil.example":            "/@evil.example",
		"//user@evil.example/":      "",
		"/%2F%2Fevil.example":       "",
		"/dashboard%00":             "",
		"/ok?next=//evil.example":   "/ok?next=//evil.example",
		"/search?near=Leeds#result": "/search?near=Leeds#result",
		"/%E2%80%8B/evil.example":   "/%E2%80%8B/evil.example",
		"/%C2%85/evil.example":      "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
