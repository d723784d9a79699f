package adminapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/store"
)

// auditRoutes serve the admin audit log: every change made through this
// API, who made it (token name and role) and on what.
var auditRoutes = []Route{
	{http.MethodGet, "/audit", []Role{RoleAuditor}, func(a *API) gin.HandlerFunc { return a.listAudit }},
}

const maxAuditPage = 1000

// audit records one admin change. details hold names and flags only —
// never a secret value or personal data. A failure is logged, not
// returned: the change it describes has already been made.
func (a *API) audit(c *gin.Context, action, target string, details map[string]string) {
	p := PrincipalOf(c)
	e := store.AuditEntry{
		At: a.d.Now(), Actor: p.Name, Role: string(p.Role), TokenID: p.TokenID,
		Action: action, Target: target, Details: details,
	}
	if err := a.d.Store.AppendAudit(c.Request.Context(), e); err != nil {
		a.d.Log.Error("admin audit entry not written", "action", action, "target", target,
			"request_id", httpapi.RequestID(c), "err", err)
	}
}

func (a *API) listAudit(c *gin.Context) {
	limit, errs := queryLimit(c, 100, maxAuditPage)
	f := store.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Limit: limit}
	if len(f.Actor) > 200 {
		errs.add("actor", "must be at most 200 characters")
	}
	if len(f.Action) > 100 || strings.ContainsAny(f.Action, " %*") {
		errs.add("action", `must be an action name like "connector.update", or a prefix ending in "." like "connector."`)
	}
	f.Since = queryTime(c, "since", errs)
	f.Until = queryTime(c, "until", errs)
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		errs.add("until", "must be after since")
	}
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	entries, err := a.d.Store.ListAudit(c.Request.Context(), f)
	if err != nil {
		a.internalError(c, "list the admin audit log", err)
		return
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}
