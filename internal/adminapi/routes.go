package adminapi

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

var readers = []Role{RoleMarketer, RolePrivacy, RoleAuditor}

// routes is the one table of admin endpoints, one slice per file that
// serves them (consent.go, decisions.go, connectors.go, jobs.go, tokens.go).
var routes = slices.Concat(coreRoutes, consentRoutes, decisionRoutes, connectorRoutes, deadLetterRoutes, parkedRoutes, tokenRoutes, policyRoutes, noticeRoutes, auditRoutes)

var coreRoutes = []Route{
	{http.MethodGet, "/whoami", readers, func(a *API) gin.HandlerFunc { return a.whoami }},
}

func (a *API) whoami(c *gin.Context) { c.JSON(http.StatusOK, PrincipalOf(c)) }
