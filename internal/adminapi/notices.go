package adminapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/store"
)

// noticeRoutes: the registry of privacy notices, so "what was the subject
// told" is answerable for every ledger entry that names one.
var noticeRoutes = []Route{
	{http.MethodGet, "/notices", readers, func(a *API) gin.HandlerFunc { return a.listNotices }},
	{http.MethodGet, "/notices/:id/:version", readers, func(a *API) gin.HandlerFunc { return a.getNotice }},
	{http.MethodPost, "/notices", []Role{RolePrivacy}, func(a *API) gin.HandlerFunc { return a.putNotice }},
}

// noticeRequest registers a notice version. The text is hashed here and
// never stored; send text_sha256 instead when the text stays elsewhere.
type noticeRequest struct {
	ID            string  `json:"id" validate:"required,max=200"`
	Version       string  `json:"version" validate:"required,max=100"`
	URL           string  `json:"url,omitempty" validate:"omitempty,max=2000,url"`
	Text          *string `json:"text,omitempty"`
	TextSHA256    string  `json:"text_sha256,omitempty" validate:"omitempty,len=64,hexadecimal,lowercase"`
	EffectiveFrom string  `json:"effective_from" validate:"required"`
}

func (a *API) listNotices(c *gin.Context) {
	ns, err := a.d.Store.ListNotices(c.Request.Context())
	if err != nil {
		a.internalError(c, "list notices", err)
		return
	}
	if ns == nil {
		ns = []store.Notice{}
	}
	c.JSON(http.StatusOK, gin.H{"notices": ns})
}

func (a *API) getNotice(c *gin.Context) {
	n, err := a.d.Store.GetNotice(c.Request.Context(), c.Param("id"), c.Param("version"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no notice with this id and version; GET /api/v1/notices lists them")
	case err != nil:
		a.internalError(c, "read notice", err)
	default:
		c.JSON(http.StatusOK, n)
	}
}

func (a *API) putNotice(c *gin.Context) {
	var req noticeRequest
	if _, ok := readStrictJSON(c, &req, 2<<20); !ok {
		return
	}
	errs := validateStruct(req)
	switch {
	case req.Text != nil && req.TextSHA256 != "":
		errs.add("text", "send text or text_sha256, not both")
	case req.Text == nil && req.TextSHA256 == "":
		errs.add("text", "send the notice text (hashed here, not stored) or its text_sha256")
	}
	var from time.Time
	if req.EffectiveFrom != "" {
		t, err := time.Parse(time.RFC3339Nano, req.EffectiveFrom)
		if err != nil {
			errs.add("effective_from", "must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z")
		}
		from = t.UTC()
	}
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	n := store.Notice{ID: req.ID, Version: req.Version, URL: req.URL, TextSHA256: req.TextSHA256, EffectiveFrom: from}
	if req.Text != nil {
		sum := sha256.Sum256([]byte(*req.Text))
		n.TextSHA256 = hex.EncodeToString(sum[:])
	}
	ctx := c.Request.Context()
	status := http.StatusCreated
	if _, err := a.d.Store.GetNotice(ctx, n.ID, n.Version); err == nil {
		status = http.StatusOK // same content again is a no-op; different content conflicts below
	} else if !errors.Is(err, store.ErrNotFound) {
		a.internalError(c, "read notice", err)
		return
	}
	switch err := a.d.Store.PutNotice(ctx, n); {
	case errors.Is(err, store.ErrConflict):
		httpapi.WriteError(c, http.StatusConflict, "conflict",
			"this notice id and version is registered with other content; what was shown never changes: register a new version")
		return
	case err != nil:
		a.internalError(c, "register notice", err)
		return
	}
	stored, err := a.d.Store.GetNotice(ctx, n.ID, n.Version)
	if err != nil {
		a.internalError(c, "read notice", err)
		return
	}
	c.JSON(status, stored)
}
