package adminapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/httpapi"
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

func (s StaticToken) Authenticate(_ context.Context, token string) (Principal, error) {
	if s.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) == 1 {
		return Principal{Name: "bootstrap-admin", Role: RoleAdmin}, nil
	}
	return Principal{}, ErrBadToken
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
