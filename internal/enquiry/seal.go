package enquiry

import (
	"bufio"
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/confide-org/confide/internal/audit"
	"golang.org/x/crypto/chacha20poly1305"
)

// Keyring holds the master keys that wrap every enquiry's data key. It is
// read from a key file that never goes into the database or a backup. The
// last key in the file is current; older ones stay to unwrap what they
// wrapped until `confide keys rotate` re-wraps everything.
type Keyring struct {
	ids     []string
	keys    map[string][]byte
	current string
}

var keyIDRe = regexp.MustCompile(`^k[0-9]{1,6}$`)

// ErrOpen reports an enquiry that cannot be decrypted: a wrong or missing
// key, or ciphertext that has been changed. It is never silent.
var ErrOpen = errors.New("enquiry cannot be decrypted: the key is wrong or the stored data was altered")

// LoadOrCreateKeyring reads path, creating it with one new key (mode 0400)
// if it does not exist.
func LoadOrCreateKeyring(path string) (*Keyring, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeKeyFile(path, "k1 "+newKeyText()+"\n", true); err != nil {
			return nil, false, err
		}
		kr, err := LoadKeyring(path)
		return kr, true, err
	} else if err != nil {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	kr, err := parseKeyring(b)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	return kr, false, nil
}

// LoadKeyring reads an existing key file.
func LoadKeyring(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	kr, err := parseKeyring(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return kr, nil
}

func newKeyText() string {
	k := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(k)
}

func parseKeyring(b []byte) (*Keyring, error) {
	kr := &Keyring{keys: map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, text, ok := strings.Cut(line, " ")
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
		if !ok || !keyIDRe.MatchString(id) || err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("line %d is not \"kN <32 bytes in base64>\"", n)
		}
		if kr.keys[id] != nil {
			return nil, fmt.Errorf("key %s appears twice", id)
		}
		kr.ids, kr.keys[id], kr.current = append(kr.ids, id), key, id
	}
	if kr.current == "" {
		return nil, errors.New("no keys")
	}
	return kr, nil
}

// writeKeyFile writes the file readable by its owner only. New files are
// created exclusively so that two processes never make two keys.
func writeKeyFile(path, text string, exclusive bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if exclusive {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
		if err != nil {
			return fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp := path + ".new"
	_ = os.Remove(tmp)
	if err := writeKeyFile(tmp, text, true); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// AddKey appends a new current key to the key file and returns the new
// keyring. Data keys wrapped by older keys still open until re-wrapped.
func AddKey(path string) (*Keyring, error) {
	kr, err := LoadKeyring(path)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Confide enquiry master keys. The last one is current. Keep this file out of backups of the database.\n")
	for _, id := range kr.ids {
		fmt.Fprintf(&b, "%s %s\n", id, base64.StdEncoding.EncodeToString(kr.keys[id]))
	}
	next := fmt.Sprintf("k%d", len(kr.ids)+1)
	for kr.keys[next] != nil {
		next += "0"
	}
	fmt.Fprintf(&b, "%s %s\n", next, newKeyText())
	if err := writeKeyFile(path, b.String(), false); err != nil {
		return nil, err
	}
	return LoadKeyring(path)
}

// Current is the id of the key new data keys are wrapped with.
func (kr *Keyring) Current() string { return kr.current }

// Contains reports whether the key bytes appear in b (for tests that
// check the key never reaches the database or a backup).
func (kr *Keyring) Contains(b []byte) bool {
	for _, k := range kr.keys {
		if bytes.Contains(b, k) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(k))) {
			return true
		}
	}
	return false
}

// derived returns a key for another purpose (hashing sender addresses,
// signing links), so the master key itself is used only to wrap.
func (kr *Keyring) derived(purpose string) []byte {
	m := hmac.New(sha256.New, kr.keys[kr.ids[0]])
	m.Write([]byte("confide/" + purpose))
	return m.Sum(nil)
}

// auditKeyInfo is the HKDF purpose label of the audit chain's key.
const auditKeyInfo = "confide audit chain v1"

// AuditKey is the key the audit chain's links are MACs under, derived
// with HKDF-SHA256 and a purpose label of its own from the first master
// key, which rotation never removes: the chain verifies across rotations,
// and only someone holding the key file can make a link.
func (kr *Keyring) AuditKey() (*audit.Key, error) {
	k, err := hkdf.Key(sha256.New, kr.keys[kr.ids[0]], nil, auditKeyInfo, audit.KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive the audit key: %w", err)
	}
	return audit.NewKey(k)
}

// demoPasswordInfo is the HKDF purpose label of the demo accounts'
// password.
const demoPasswordInfo = "confide demo password v1"

// DemoPassword is the password every account of a demo site shares
// (`serve --demo` only), derived from the first key like the audit key:
// the same at every start, so the walkthrough can print it each time,
// yet never stored, and different on every install, so knowing one demo
// site's password opens no other. It is four groups of four letters and
// digits (80 bits).
func (kr *Keyring) DemoPassword() (string, error) {
	k, err := hkdf.Key(sha256.New, kr.keys[kr.ids[0]], nil, demoPasswordInfo, 10)
	if err != nil {
		return "", fmt.Errorf("derive the demo password: %w", err)
	}
	s := strings.ToLower(base32.StdEncoding.EncodeToString(k))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16], nil
}

// Sealed is an enquiry's encrypted fields as stored.
type Sealed struct {
	KeyID      string
	WrappedKey []byte // the data key, encrypted under master key KeyID
	Ciphertext []byte // the fields, encrypted under the data key
}

func aead(key []byte) interface {
	NonceSize() int
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
} {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err) // keys are always 32 bytes here
	}
	return a
}

func seal(key, plaintext, ad []byte) []byte {
	a := aead(key)
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+16)
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return a.Seal(nonce, nonce, plaintext, ad)
}

func open(key, box, ad []byte) ([]byte, error) {
	a := aead(key)
	if len(box) < a.NonceSize() {
		return nil, ErrOpen
	}
	out, err := a.Open(nil, box[:a.NonceSize()], box[a.NonceSize():], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// Seal encrypts plaintext for the enquiry id under a fresh data key
// (XChaCha20-Poly1305), wrapped by the current master key. The id is bound
// as associated data, so ciphertext moved to another enquiry will not open.
func (kr *Keyring) Seal(id string, plaintext []byte) Sealed {
	dek := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(dek); err != nil {
		panic(err)
	}
	return Sealed{
		KeyID:      kr.current,
		WrappedKey: seal(kr.keys[kr.current], dek, []byte("dek|"+kr.current+"|"+id)),
		Ciphertext: seal(dek, plaintext, []byte("enquiry|"+id)),
	}
}

// Open decrypts what Seal made for id.
func (kr *Keyring) Open(id string, s Sealed) ([]byte, error) {
	master := kr.keys[s.KeyID]
	if master == nil {
		return nil, fmt.Errorf("key %q is not in the key file: %w", s.KeyID, ErrOpen)
	}
	dek, err := open(master, s.WrappedKey, []byte("dek|"+s.KeyID+"|"+id))
	if err != nil {
		return nil, err
	}
	return open(dek, s.Ciphertext, []byte("enquiry|"+id))
}

// Rewrap re-encrypts a data key under the current master key; the
// ciphertext itself is untouched.
func (kr *Keyring) Rewrap(id string, s Sealed) (Sealed, error) {
	master := kr.keys[s.KeyID]
	if master == nil {
		return s, fmt.Errorf("key %q is not in the key file: %w", s.KeyID, ErrOpen)
	}
	dek, err := open(master, s.WrappedKey, []byte("dek|"+s.KeyID+"|"+id))
	if err != nil {
		return s, err
	}
	return Sealed{KeyID: kr.current, WrappedKey: seal(kr.keys[kr.current], dek, []byte("dek|"+kr.current+"|"+id)), Ciphertext: s.Ciphertext}, nil
}

// HashEmail is a keyed hash of a sender's address, for rate limits and
// erasure requests without storing the address in the clear.
func (kr *Keyring) HashEmail(email string) string {
	m := hmac.New(sha256.New, kr.derived("email"))
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Sign makes a tamper-proof tag for a value (form tokens, erasure links).
func (kr *Keyring) Sign(purpose, value string) string {
	m := hmac.New(sha256.New, kr.derived(purpose))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Verify checks a tag made by Sign.
func (kr *Keyring) Verify(purpose, value, tag string) bool {
	return hmac.Equal([]byte(kr.Sign(purpose, value)), []byte(tag))
}
