package adminapi

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/subject"
)

// Deps is what the admin API works with.
type Deps struct {
	Store    store.Store
	Pipeline *pipeline.Pipeline
	Producer pipeline.Producer
	Keyer    *subject.Keyer
	Policy   *policy.Policy
	Topics   config.Topics
	Auth     Authenticator
	Log      *slog.Logger
	Now      func() time.Time
	// Connectors is the live connector set (files + stored); without it
	// the connector routes answer 503.
	Connectors *connsync.Syncer
	// PublicURL is how platforms reach the gateway (webhook URLs).
	PublicURL string
}

// API serves /api/v1.
type API struct{ d Deps }

// Route is one admin endpoint and who may call it.
type Route struct {
	Method  string
	Path    string // gin syntax, e.g. /consent/subjects/:key
	Roles   []Role // admin is always allowed
	Handler func(a *API) gin.HandlerFunc
}

// Mount registers every route of the routes table under /api/v1.
func Mount(r *gin.Engine, d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	a := &API{d: d}
	g := r.Group("/api/v1", a.authenticate)
	for _, rt := range Routes() {
		g.Handle(rt.Method, rt.Path, allow(rt.Roles...), rt.Handler(a))
	}
	return a
}

// Routes is the table of every admin route (see routes.go).
func Routes() []Route { return routes }
