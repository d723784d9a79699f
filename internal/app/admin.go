package app

import (
	"github.com/gin-gonic/gin"
)

// mountAdmin adds the admin API (/api/v1). Filled in by admin_*.go.
func (g *Gateway) mountAdmin(r *gin.Engine) {}
