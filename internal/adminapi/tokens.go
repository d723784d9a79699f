package adminapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/store"
)

// tokenRoutes manage admin API tokens. Only admins create or revoke;
// auditors may list (a list holds no token values, only names and times).
var tokenRoutes = []Route{
	{http.MethodGet, "/tokens", []Role{RoleAuditor}, func(a *API) gin.HandlerFunc { return a.listTokens }},
	{http.MethodPost, "/tokens", nil, func(a *API) gin.HandlerFunc { return a.createToken }},
	{http.MethodDelete, "/tokens/:id", nil, func(a *API) gin.HandlerFunc { return a.revokeToken }},
}

type createTokenRequest struct {
	Name string `json:"name" validate:"required,max=100"`
	Role Role   `json:"role" validate:"required,oneof=admin marketer privacy auditor"`
}

type createdToken struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Token is shown once: only its hash is stored.
	Token string `json:"token"`
}

func (a *API) listTokens(c *gin.Context) {
	ts, err := a.d.Store.ListAdminTokens(c.Request.Context())
	if err != nil {
		a.internalError(c, "list tokens", err)
		return
	}
	if ts == nil {
		ts = []store.AdminToken{}
	}
	c.JSON(http.StatusOK, gin.H{"tokens": ts})
}

func (a *API) createToken(c *gin.Context) {
	var req createTokenRequest
	if _, ok := readStrictJSON(c, &req, 4<<10); !ok {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if errs := validateStruct(req); len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	tok, hash := NewToken()
	t := store.AdminToken{ID: "tok_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16], Name: req.Name, Role: string(req.Role), Hash: hash, CreatedAt: a.d.Now()}
	if err := a.d.Store.CreateAdminToken(c.Request.Context(), t); err != nil {
		a.internalError(c, "create the token", err)
		return
	}
	a.audit(c, "token.create", t.ID, map[string]string{"name": t.Name, "role": t.Role})
	c.JSON(http.StatusCreated, createdToken{ID: t.ID, Name: t.Name, Role: req.Role, Token: tok})
}

func (a *API) revokeToken(c *gin.Context) {
	id := c.Param("id")
	if id == BootstrapTokenID {
		httpapi.WriteError(c, http.StatusConflict, "conflict", "the bootstrap admin token comes from the gateway's configuration (admin_token); change or remove it there")
		return
	}
	err := a.d.Store.RevokeAdminToken(c.Request.Context(), id, a.d.Now())
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no token with this id")
		return
	}
	if err != nil {
		a.internalError(c, "revoke the token", err)
		return
	}
	a.audit(c, "token.revoke", id, nil)
	c.Status(http.StatusNoContent)
}
