package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinels for values that cannot be opened.
var (
	// ErrNoKeys: the ring is empty (no key configured).
	ErrNoKeys = errors.New("no secret encryption key is configured (set CONSENTGATE_SECRET_KEYS or CONSENTGATE_SECRET_KEYS_FILE)")
	// ErrUnknownKey: the value was sealed under a key id the ring lacks.
	ErrUnknownKey = errors.New("sealed under a key that is not in the key ring")
	// ErrWrongKey: the key of that id does not open the value.
	ErrWrongKey = errors.New("does not open with the key of its id (wrong key material, or the value was altered)")
	// ErrMalformed: the text is not a sealed value.
	ErrMalformed = errors.New("not a sealed value")
)

const (
	prefix      = "cgsb1:"
	minMaterial = 32
	hkdfInfo    = "consentgate secretbox v1"
)

var idRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

// Ring holds the keys: the first encrypts, all decrypt. The zero Ring (or
// nil) has no keys: Seal and Open fail with ErrNoKeys.
type Ring struct {
	primary string
	ids     []string
	keys    map[string]cipher.AEAD
}

// ParseRing reads a key ring from its text form (see the package doc).
// Errors name the entry by position, never its material.
func ParseRing(text string) (*Ring, error) {
	r := &Ring{keys: map[string]cipher.AEAD{}}
	entries := strings.FieldsFunc(text, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' })
	n := 0
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		n++
		id, material := "", e
		if before, after, ok := strings.Cut(e, ":"); ok && idRe.MatchString(before) {
			id, material = before, after
		}
		if len(material) < minMaterial {
			return nil, fmt.Errorf("secret key ring: key %d has %d characters; it needs at least %d random ones (e.g. `openssl rand -base64 32`)", n, len(material), minMaterial)
		}
		key, err := hkdf.Key(sha256.New, []byte(material), nil, hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("secret key ring: derive key %d: %w", n, err)
		}
		if id == "" {
			sum := sha256.Sum256(append([]byte("consentgate secretbox id\x00"), key...))
			id = "k" + hex.EncodeToString(sum[:4])
		}
		if _, dup := r.keys[id]; dup {
			return nil, fmt.Errorf("secret key ring: key id %q appears twice; give every key its own id", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret key ring: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret key ring: key %q: %w", id, err)
		}
		r.keys[id] = aead
		r.ids = append(r.ids, id)
		if r.primary == "" {
			r.primary = id
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("secret key ring: %w", ErrNoKeys)
	}
	return r, nil
}

// Primary is the id of the key that seals; "" for an empty ring.
func (r *Ring) Primary() string {
	if r == nil {
		return ""
	}
	return r.primary
}

// IDs lists the key ids, the primary first.
func (r *Ring) IDs() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// Seal encrypts plaintext under the primary key, binding it to ad (e.g.
// "connector/meta-a/secret/app_secret").
func (r *Ring) Seal(plaintext []byte, ad string) (string, error) {
	if r == nil || r.primary == "" {
		return "", ErrNoKeys
	}
	aead := r.keys[r.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(ad))
	return prefix + r.primary + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// KeyID returns the id of the key that sealed s.
func KeyID(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", ErrMalformed
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !idRe.MatchString(id) {
		return "", ErrMalformed
	}
	return id, nil
}

// IsSealed reports whether s looks like a sealed value.
func IsSealed(s string) bool {
	_, err := KeyID(s)
	return err == nil
}

// Open decrypts a value made by Seal with the same ad. Errors wrap
// ErrNoKeys, ErrMalformed, ErrUnknownKey or ErrWrongKey and name the key
// id, never any part of the value.
func (r *Ring) Open(s, ad string) ([]byte, error) {
	id, err := KeyID(s)
	if err != nil {
		return nil, err
	}
	if r == nil || len(r.keys) == 0 {
		return nil, fmt.Errorf("open value sealed under key %q: %w", id, ErrNoKeys)
	}
	aead, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("open value sealed under key %q (ring has %s): %w", id, strings.Join(r.ids, ", "), ErrUnknownKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s[len(prefix)+len(id)+1:])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("open value sealed under key %q: %w", id, ErrMalformed)
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("open value sealed under key %q: %w", id, ErrWrongKey)
	}
	return pt, nil
}
