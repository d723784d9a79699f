package app

import (
	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/adminapi"
)

// mountAdmin adds the admin API (/api/v1) when an admin token is set.
func (g *Gateway) mountAdmin(r *gin.Engine) {
	if g.AdminToken == "" {
		return
	}
	g.Admin = adminapi.Mount(r, adminapi.Deps{
		Store: g.Store, Pipeline: g.Pipeline, Producer: g.Producer, Keyer: g.keyer,
		Policy: g.Policy, Topics: g.Config.Topics, Log: g.log,
		Auth: adminapi.StaticToken{Token: g.AdminToken},
	})
}
