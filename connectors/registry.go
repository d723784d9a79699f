// Package connectors is the registry of platform kinds. Each platform lives
// in its own sub-package and knows only its platform; this file is the one
// place that names them all. Adding a platform is one package plus one
// line in the platforms map below.
package connectors

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/connectors/generic"
	"github.com/consentgate/consentgate/connectors/googleads"
	"github.com/consentgate/consentgate/connectors/linkedin"
	"github.com/consentgate/consentgate/connectors/meta"
	"github.com/consentgate/consentgate/connectors/tiktok"
	"github.com/consentgate/consentgate/connectors/x"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// Factory opens connectors of one platform kind from their settings.
type Factory struct {
	Platform string
	// Secrets names the secrets the platform reads (documentation and
	// config checks).
	Secrets []string
	// FileOnly names the settings that only a connector file may set, not
	// the admin API: those that decide where the connector sends a secret
	// it holds (a fetcher's base_url).
	FileOnly []string
	open     func(file string, settings *yaml.Node, env ingest.Env) (ingest.Connector, error)
}

// Open decodes settings strictly (unknown keys fail) over the platform's
// defaults and opens a connector. settings may be nil.
func (f Factory) Open(file string, settings *yaml.Node, env ingest.Env) (ingest.Connector, error) {
	return f.open(file, settings, env)
}

// entry adapts a platform package's DefaultConfig/Open pair.
func entry[C any, K ingest.Connector](platform string, secrets []string, def func() C, open func(C, ingest.Env) (K, error)) Factory {
	return Factory{
		Platform: platform,
		Secrets:  secrets,
		open: func(file string, settings *yaml.Node, env ingest.Env) (ingest.Connector, error) {
			cfg := def()
			if settings != nil && settings.Kind != 0 && !(settings.Kind == yaml.ScalarNode && settings.Tag == "!!null") {
				if ps := yamlx.Decode(file, settings, &cfg, "settings"); len(ps) > 0 {
					return nil, ps
				}
			}
			c, err := open(cfg, env)
			if err != nil {
				return nil, fmt.Errorf("open %s connector: %w", platform, err)
			}
			return c, nil
		},
	}
}

var platforms = map[string]Factory{
	"generic":   entry("generic", generic.Secrets, generic.DefaultConfig, generic.Open),
	"meta":      fileOnly(entry("meta", meta.Secrets, meta.DefaultConfig, meta.Open), meta.FileOnlySettings),
	"linkedin":  fileOnly(entry("linkedin", linkedin.Secrets, linkedin.DefaultConfig, linkedin.Open), linkedin.FileOnlySettings),
	"tiktok":    entry("tiktok", tiktok.Secrets, tiktok.DefaultConfig, tiktok.Open),
	"x":         entry("x", x.Secrets, x.DefaultConfig, x.Open),
	"googleads": entry("googleads", googleads.Secrets, googleads.DefaultConfig, googleads.Open),
}

func fileOnly(f Factory, settings []string) Factory {
	f.FileOnly = settings
	return f
}

// Lookup finds a platform kind by name.
func Lookup(platform string) (Factory, bool) {
	f, ok := platforms[platform]
	return f, ok
}

// Platforms lists the known platform kinds, sorted.
func Platforms() []string {
	out := make([]string, 0, len(platforms))
	for p := range platforms {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
