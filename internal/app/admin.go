package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/console"
	"github.com/consentgate/consentgate/internal/secretbox"
)

// Where the key ring that seals stored connector secrets comes from
// (internal/secretbox documents the format and rotation).
const (
	EnvSecretKeys     = "CONSENTGATE_SECRET_KEYS"
	EnvSecretKeysFile = "CONSENTGATE_SECRET_KEYS_FILE"
)

// connectorPollInterval is how soon an instance runs a connector changed
// through another instance's admin API.
const connectorPollInterval = 2 * time.Second

// mountAdmin adds the admin API (/api/v1). Tokens are the bootstrap admin
// token from the config (when set) and tokens created through the API.
func (g *Gateway) mountAdmin(r *gin.Engine) {
	console.Mount(r) // static; without a token its sign-in explains that the API is off
	g.Admin = adminapi.Mount(r, adminapi.Deps{
		Store: g.Store, Pipeline: g.Pipeline, Producer: g.Producer, Keyer: g.keyer,
		Policy: g.Policy, Topics: g.Config.Topics, Log: g.log,
		Auth:       adminapi.StoredTokens{Store: g.Store, Bootstrap: g.AdminToken, Log: g.log},
		Connectors: g.Sync, PublicURL: g.Config.PublicURL,
	})
}

// startConnectorSync builds the live connector set from the files and the
// stored connectors and makes it the pipeline's.
func (g *Gateway) startConnectorSync(ctx context.Context, l *Loaded, secret func(config.SecretRef, string) (string, error)) error {
	ring, err := LoadKeyRing(g.Config, secret)
	if err != nil {
		return err
	}
	cfg := g.Config
	g.Sync = connsync.New(connsync.Options{
		Store: g.Store, Target: g.Pipeline, Files: l.Connectors, Log: g.log,
		NewTopics: g.topicCreator(),
		Builder: &connsync.Builder{
			Options: config.ConnectorOptions{Gateway: cfg, Policy: PolicyView{l.Policy},
				HTTPClient: &http.Client{Timeout: 30 * time.Second}},
			Resolve: func(ref config.SecretRef) (string, error) { return secret(ref, cfg.Path(cfg.ConnectorsDir)) },
			Ring:    ring,
		},
	})
	if err := g.Sync.Start(ctx); err != nil {
		return fmt.Errorf("load stored connectors: %w", err)
	}
	return nil
}

// topicCreator creates the topics of connectors written through the API,
// like those of file connectors at start, each topic once per process;
// nil when the gateway does not create topics.
func (g *Gateway) topicCreator() func(context.Context, []string) {
	cfg := g.Config
	if !cfg.Kafka.AutoCreateTopics || g.Producer == nil {
		return nil
	}
	var mu sync.Mutex
	done := map[string]bool{}
	return func(ctx context.Context, topics []string) {
		mu.Lock()
		var fresh []string
		for _, t := range topics {
			if t != "" && !done[t] {
				done[t] = true
				fresh = append(fresh, t)
			}
		}
		mu.Unlock()
		if len(fresh) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, cfg.Kafka.WriteTimeout)
		defer cancel()
		if err := g.Producer.EnsureTopics(ctx, fresh, cfg.Kafka.Partitions); err != nil {
			g.log.Warn("could not create the topics of a connector; they must exist already", "topics", fresh, "err", err)
			mu.Lock()
			for _, t := range fresh {
				delete(done, t) // try again when the connector is built next
			}
			mu.Unlock()
		}
	}
}

// LoadKeyRing reads the key ring from CONSENTGATE_SECRET_KEYS_FILE or
// CONSENTGATE_SECRET_KEYS. Neither set: nil, and the admin API refuses
// secret values (references still work); a ring that is set but invalid
// is an error.
func LoadKeyRing(cfg *config.Gateway, secret func(config.SecretRef, string) (string, error)) (*secretbox.Ring, error) {
	if secret == nil {
		secret = config.ResolveSecret
	}
	ref := config.SecretRef{Env: EnvSecretKeys}
	if f := os.Getenv(EnvSecretKeysFile); f != "" {
		// A path given in the environment is the caller's, relative to
		// the working directory, like the other CONSENTGATE_* paths.
		if abs, err := filepath.Abs(f); err == nil {
			f = abs
		}
		ref = config.SecretRef{File: f}
	}
	text, err := secret(ref, cfg.Dir)
	if err != nil {
		if ref.File != "" {
			return nil, fmt.Errorf("read the secret key ring (%s): %w", EnvSecretKeysFile, err)
		}
		return nil, nil
	}
	ring, err := secretbox.ParseRing(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return ring, nil
}
