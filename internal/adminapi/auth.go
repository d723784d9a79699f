package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/store"
)

// Role is what a token may do.
type Role string

const (
	RoleAdmin    Role = "admin"    // everything
	RoleMarketer Role = "marketer" // connectors, dry-run, dead letters
	RolePrivacy  Role = "privacy"  // consent, notices, erasure, exports
	RoleAuditor  Role = "auditor"  // read-only
)

// Roles lists every role, for validation messages.
var Roles = []Role{RoleAdmin, RoleMarketer, RolePrivacy, RoleAuditor}

// Principal is who is calling.
type Principal struct {
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	TokenID string `json:"token_id,omitempty"`
}

// ErrBadToken is returned by authenticators for unknown or revoked tokens.
var ErrBadToken = errors.New("unknown or revoked token")

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// StaticToken authenticates one bootstrap admin token (from env/file).
type StaticToken struct{ Token string }

// BootstrapTokenID is the token id of the configured admin token.
const BootstrapTokenID = "bootstrap"

func (s StaticToken) Authenticate(_ context.Context, token string) (Principal, error) {
	if s.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) == 1 {
		return Principal{Name: "bootstrap-admin", Role: RoleAdmin, TokenID: BootstrapTokenID}, nil
	}
	return Principal{}, ErrBadToken
}

// StoredTokens authenticates tokens created through the API (stored as
// SHA-256 hashes), and the bootstrap admin token from the config, which
// keeps working so an operator can never lock themselves out.
type StoredTokens struct {
	Store     store.AdminTokens
	Bootstrap string
	Now       func() time.Time
	Log       *slog.Logger
}

// touchEvery bounds the writes last_used_at costs: one per token per
// interval, not one per request.
const touchEvery = time.Minute

func (s StoredTokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	if p, err := (StaticToken{Token: s.Bootstrap}).Authenticate(ctx, token); err == nil {
		return p, nil
	}
	if !strings.HasPrefix(token, tokenPrefix) {
		return Principal{}, ErrBadToken
	}
	t, err := s.Store.AdminTokenByHash(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up admin token: %w", err)
	}
	if t.RevokedAt != nil {
		return Principal{}, ErrBadToken
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.Store.TouchAdminToken(ctx, t.ID, now); err != nil && s.Log != nil {
			s.Log.Warn("record admin token use", "token_id", t.ID, "err", err)
		}
	}
	return Principal{Name: t.Name, Role: Role(t.Role), TokenID: t.ID}, nil
}

// tokenPrefix marks consentgate admin tokens, so secret scanners can
// recognise a leaked one.
const tokenPrefix = "cgt_"

// NewToken returns a new random token and its stored hash.
func NewToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken is what is stored of a token: 256 random bits need no slow
// hash, a plain SHA-256 cannot be reversed.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

const principalKey = "adminapi.principal"

// PrincipalOf returns the authenticated caller.
func PrincipalOf(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

func (a *API) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		c.Header("WWW-Authenticate", `Bearer realm="consentgate"`)
		httpapi.WriteError(c, http.StatusUnauthorized, "unauthenticated", "send Authorization: Bearer <token>; consentgate dev prints an admin token")
		return
	}
	p, err := a.d.Auth.Authenticate(c.Request.Context(), strings.TrimSpace(tok))
	if err != nil && !errors.Is(err, ErrBadToken) {
		a.internalError(c, "check the bearer token", err)
		return
	}
	if err != nil {
		httpapi.WriteError(c, http.StatusUnauthorized, "unauthenticated", "the bearer token is unknown or revoked")
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// allow admits the listed roles (admin always).
func allow(roles ...Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := PrincipalOf(c)
		if p.Role == RoleAdmin {
			c.Next()
			return
		}
		for _, r := range roles {
			if p.Role == r {
				c.Next()
				return
			}
		}
		httpapi.WriteError(c, http.StatusForbidden, "forbidden", "role "+string(p.Role)+" may not do this")
	}
}
