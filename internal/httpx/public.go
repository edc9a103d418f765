package httpx

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// WriteTagged sends a finished document of contentType. A successful
// answer to a GET or HEAD carries a strong ETag (a hash of the body), and a request whose
// If-None-Match names it gets 304 with no body: a client polling a public
// read-only API pays only for changes. Both JSON surfaces (/api and
// /fhir) answer through here so their caching rules cannot drift apart.
func WriteTagged(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		sum := sha256.Sum256(body)
		tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", tag)
		if ETagMatch(r.Header.Get("If-None-Match"), tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// ETagMatch reports whether an If-None-Match header names tag (weakly, as
// RFC 9110 asks for GET and HEAD), or is "*".
func ETagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// PublicRead makes a read-only API usable from any web page: every answer
// may be read cross-origin (no credentials are ever involved, so "*" gives
// nothing away), and a CORS preflight is answered here. It reports whether
// it answered the request.
func PublicRead(w http.ResponseWriter, r *http.Request) bool {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
	if r.Method != http.MethodOptions {
		return false
	}
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Accept, If-None-Match")
	hdr.Set("Access-Control-Max-Age", "86400")
	hdr.Set("Allow", "GET, HEAD, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
	return true
}
