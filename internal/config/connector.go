package config

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/connectors"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// ConnectorFile is one file in the connectors directory.
type ConnectorFile struct {
	// ID appears in the webhook URL /webhooks/{id}, in metrics and in the
	// decision log. Lower-case letters, digits, '-' and '_'.
	ID string `yaml:"id" validate:"required,slug"`
	// Platform kind: generic, meta, linkedin, tiktok, x, googleads.
	Platform string `yaml:"platform" validate:"required"`
	// Name is for people. Default: the id.
	Name string `yaml:"name"`
	// Enabled: a disabled connector answers 404. Default true.
	Enabled *bool `yaml:"enabled"`
	// Topics override the gateway's topic names for this connector.
	Topics TopicOverrides `yaml:"topics"`
	// DefaultJurisdiction applies when a record carries no country:
	// ISO 3166 country ("DE"), country-region ("US-CA") or a group ("EU").
	// Default "" = unknown, which the policy treats as opt-in.
	DefaultJurisdiction string `yaml:"default_jurisdiction"`
	// Secrets by name (the platform documents which it reads), each from
	// {env: NAME} or {file: PATH}; never the value itself.
	Secrets map[string]SecretRef `yaml:"secrets" validate:"dive"`
	Mapping Mapping              `yaml:"mapping"`
	Consent ConsentMapping       `yaml:"consent"`
	// RateLimit caps deliveries to this connector's webhook URL; beyond
	// it the gateway answers 429 with Retry-After. Default: no limit.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Settings are platform-specific; see the platform's documentation.
	Settings yaml.Node `yaml:"settings"`
}

// RateLimit is a token bucket per connector (per gateway instance).
type RateLimit struct {
	// RPS is the sustained rate in requests per second (fractions allowed,
	// e.g. 0.5). 0 = unlimited (the default).
	RPS float64 `yaml:"rps" validate:"gte=0"`
	// Burst is how many requests may arrive at once above the rate.
	// Default: the rate rounded up, at least 1.
	Burst int `yaml:"burst" validate:"gte=0"`
}

type TopicOverrides struct {
	Leads        string `yaml:"leads"`
	Interactions string `yaml:"interactions"`
	Test         string `yaml:"test"`
}

// Mapping turns platform field names into canonical fields.
type Mapping struct {
	// ReplaceDefaults drops the platform's default mapping, so only the
	// fields named below are forwarded. Default false (extend).
	ReplaceDefaults bool `yaml:"replace_defaults"`
	// Fields maps a platform field name (or dotted JSON path for the
	// generic connector) to a canonical field. Map to "" to drop a field
	// the default mapping would forward.
	Fields map[string]string `yaml:"fields"`
}

// ConsentMapping says which payload answers are consent for which purpose.
type ConsentMapping struct {
	Checkboxes []Checkbox `yaml:"checkboxes" validate:"dive"`
	// GPCField names a payload field whose truthy value is an opt-out of
	// sale/sharing (in addition to the Sec-GPC header).
	GPCField string `yaml:"gpc_field"`
}

// Checkbox maps one platform checkbox (or payload field) to a purpose.
type Checkbox struct {
	// Key is the platform's checkbox id (Meta checkbox key, LinkedIn
	// consentId) or a payload field path.
	Key     string     `yaml:"key" validate:"required"`
	Purpose string     `yaml:"purpose" validate:"required"`
	Notice  *NoticeRef `yaml:"notice"`
}

// NoticeRef names the privacy notice shown beside the checkbox.
type NoticeRef struct {
	ID      string `yaml:"id" validate:"required"`
	Version string `yaml:"version" validate:"required"`
}

// Connector is a loaded, validated, opened connector.
type Connector struct {
	ID                  string
	Platform            string
	Name                string
	Enabled             bool
	File                string
	Topics              Topics
	DefaultJurisdiction string
	// Mapping is the effective platform field → canonical field map.
	Mapping    map[string]string
	Checkboxes []Checkbox
	GPCField   string
	// RateLimit is zero when the connector has no limit.
	RateLimit RateLimit
	Impl      ingest.Connector
	// LoadedAt tells operators which version is live.
	LoadedAt time.Time
}

// PolicyView is what connector checks need to know of the policy.
type PolicyView interface {
	HasPurpose(name string) bool
	PurposeNames() []string
	HasField(canonical string) bool
	FieldNames() []string
}

// SecretFunc resolves a connector's secret reference.
type SecretFunc func(connectorID, name string, ref SecretRef) (string, error)

// ConnectorOptions are what connector loading depends on.
type ConnectorOptions struct {
	Gateway *Gateway
	Policy  PolicyView
	// Secret resolves secrets; default ResolveSecret relative to the file.
	Secret     SecretFunc
	Now        func() time.Time
	HTTPClient *http.Client
}

var jurisdictionRe = regexp.MustCompile(`^([A-Z]{2}(-[A-Z0-9]{1,3})?|EU|EEA)$`)

// LoadConnectors reads every *.yaml file in dir. It reports every problem
// of every file at once, and also duplicate ids across files.
func LoadConnectors(dir string, opts ConnectorOptions) ([]*Connector, error) {
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("list connector files in %s: %w", dir, err)
		}
		files = append(files, m...)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("connectors directory %s: %w (set connectors_dir in the gateway config)", dir, err)
	}
	sort.Strings(files)
	var (
		out  []*Connector
		all  yamlx.Problems
		seen = map[string]string{}
	)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			all = append(all, yamlx.Problem{File: f, Msg: err.Error()})
			continue
		}
		c, err := ParseConnector(f, data, opts)
		if err != nil {
			all = append(all, yamlx.AsProblems(f, err)...)
			continue
		}
		if prev, dup := seen[c.ID]; dup {
			all = append(all, yamlx.Problem{File: f, Key: "id", Msg: fmt.Sprintf("%q is already used by %s; connector ids must be unique", c.ID, prev)})
			continue
		}
		seen[c.ID] = f
		out = append(out, c)
	}
	return out, all.Err()
}

// ParseConnector validates one connector file and opens its platform
// connector, reporting every problem at once.
var (
	settingsProblemRe = regexp.MustCompile(`^(settings(?:\.[A-Za-z0-9_\[\]-]+)*): (.*)$`)
	secretProblemRe   = regexp.MustCompile(`^secret "([A-Za-z0-9_.-]+)"`)
)

// leafMessages lists the messages of the errors joined into err, or err's
// own message when nothing is joined. A wrapper around a joined error
// ("open x connector: %w") is dropped: each joined message stands alone.
func leafMessages(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, leafMessages(e)...)
		}
		return out
	}
	if inner := errors.Unwrap(err); inner != nil {
		if _, joined := inner.(interface{ Unwrap() []error }); joined {
			return leafMessages(inner)
		}
	}
	return []string{err.Error()}
}

func ParseConnector(file string, data []byte, opts ConnectorOptions) (*Connector, error) {
	root, ps := yamlx.Parse(file, data)
	if len(ps) > 0 {
		return nil, ps.Err()
	}
	var cf ConnectorFile
	ps = yamlx.Decode(file, root, &cf, "")
	lines := keyLines(root) // after Decode: it drops duplicate keys

	at := func(key string) int {
		if l, ok := lines[key]; ok {
			return l
		}
		return lines[strings.SplitN(key, ".", 2)[0]]
	}
	problem := func(key, format string, args ...any) {
		ps = append(ps, yamlx.Problem{File: file, Line: at(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	factory, ok := connectors.Lookup(cf.Platform)
	if !ok && cf.Platform != "" {
		problem("platform", "unknown platform %q; known platforms: %s%s", cf.Platform,
			strings.Join(connectors.Platforms(), ", "), yamlx.Suggest(cf.Platform, connectors.Platforms()))
	}
	if cf.RateLimit.Burst > 0 && cf.RateLimit.RPS == 0 {
		problem("rate_limit.rps", "burst is set but rps is 0 (unlimited); set rps, e.g. rate_limit: {rps: 50, burst: 100}")
	}
	if cf.DefaultJurisdiction != "" && !jurisdictionRe.MatchString(cf.DefaultJurisdiction) {
		problem("default_jurisdiction", `must be an ISO country ("DE"), country-region ("US-CA"), "EU" or "EEA"`)
	}
	if opts.Policy != nil {
		for raw, canon := range cf.Mapping.Fields {
			if canon != "" && !opts.Policy.HasField(canon) {
				problem("mapping.fields."+raw, "canonical field %q is in no policy category, so it would always be dropped; add it to a category in the policy or use one of: %s%s",
					canon, strings.Join(opts.Policy.FieldNames(), ", "), yamlx.Suggest(canon, opts.Policy.FieldNames()))
			}
		}
		for i, cb := range cf.Consent.Checkboxes {
			if cb.Purpose != "" && !opts.Policy.HasPurpose(cb.Purpose) {
				problem(fmt.Sprintf("consent.checkboxes[%d].purpose", i), "unknown purpose %q; the policy declares: %s%s",
					cb.Purpose, strings.Join(opts.Policy.PurposeNames(), ", "), yamlx.Suggest(cb.Purpose, opts.Policy.PurposeNames()))
			}
		}
	}

	secrets := map[string]string{}
	if ok {
		known := map[string]bool{}
		for _, s := range factory.Secrets {
			known[s] = true
		}
		for name, ref := range cf.Secrets {
			key := "secrets." + name
			if !known[name] {
				problem(key, "platform %s reads no secret of this name; it reads: %s%s", cf.Platform, strings.Join(factory.Secrets, ", "), yamlx.Suggest(name, factory.Secrets))
				continue
			}
			resolve := opts.Secret
			if resolve == nil {
				base := filepath.Dir(file)
				resolve = func(_, _ string, ref SecretRef) (string, error) { return ResolveSecret(ref, base) }
			}
			v, err := resolve(cf.ID, name, ref)
			if err != nil {
				problem(key, "%v", err)
				continue
			}
			secrets[name] = v
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	open := func(secret func(string) (string, bool)) (ingest.Connector, yamlx.Problems) {
		impl, err := factory.Open(file, &cf.Settings, ingest.Env{Secret: secret, Now: now, HTTPClient: opts.HTTPClient})
		if err == nil {
			return impl, nil
		}
		var sub yamlx.Problems
		if errors.As(err, &sub) {
			return nil, sub
		}
		// A platform reports its problems as one joined error; each gets
		// its own key and line, the way the file's own keys do.
		var out yamlx.Problems
		for _, msg := range leafMessages(err) {
			msg = strings.TrimPrefix(msg, "open "+cf.Platform+" connector: ")
			key := "settings"
			if m := settingsProblemRe.FindStringSubmatch(msg); m != nil {
				key, msg = m[1], m[2]
			} else if m := secretProblemRe.FindStringSubmatch(msg); m != nil {
				key = "secrets." + m[1]
			}
			out = append(out, yamlx.Problem{File: file, Line: at(key), Key: key, Msg: msg})
		}
		return nil, out
	}
	if len(ps) > 0 {
		if ok {
			// The settings are checked all the same, so one run reports
			// everything: a secret that could not be read gets a stand-in
			// (its problem is reported above), and what the platform then
			// says about secrets is left out.
			_, more := open(func(name string) (string, bool) {
				if v, ok := secrets[name]; ok {
					return v, true
				}
				if _, configured := cf.Secrets[name]; configured {
					return "stand-in-for-validation", true
				}
				return "", false
			})
			for _, p := range more {
				if !strings.HasPrefix(p.Key, "secrets.") {
					ps = append(ps, p)
				}
			}
		}
		return nil, ps.Err()
	}
	impl, more := open(func(name string) (string, bool) { v, ok := secrets[name]; return v, ok })
	if len(more) > 0 {
		return nil, more.Err()
	}

	c := &Connector{
		ID:                  cf.ID,
		Platform:            cf.Platform,
		Name:                cf.Name,
		Enabled:             cf.Enabled == nil || *cf.Enabled,
		File:                file,
		DefaultJurisdiction: cf.DefaultJurisdiction,
		Checkboxes:          cf.Consent.Checkboxes,
		GPCField:            cf.Consent.GPCField,
		RateLimit:           cf.RateLimit,
		Impl:                impl,
		Mapping:             map[string]string{},
		LoadedAt:            now(),
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if opts.Gateway != nil {
		c.Topics = opts.Gateway.Topics
	}
	if t := cf.Topics; t.Leads != "" || t.Interactions != "" || t.Test != "" {
		c.Topics.Leads = or(t.Leads, c.Topics.Leads)
		c.Topics.Interactions = or(t.Interactions, c.Topics.Interactions)
		c.Topics.Test = or(t.Test, c.Topics.Test)
	}
	if !cf.Mapping.ReplaceDefaults {
		for raw, canon := range impl.DefaultMapping() {
			c.Mapping[raw] = canon
		}
	}
	for raw, canon := range cf.Mapping.Fields {
		if canon == "" {
			delete(c.Mapping, raw)
			continue
		}
		c.Mapping[raw] = canon
	}
	return c, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// keyLines indexes the line of every top-level and second-level key path.
func keyLines(root *yaml.Node) map[string]int {
	lines := map[string]int{}
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if depth > 4 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				lines[p] = n.Content[i].Line
				walk(n.Content[i+1], p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				lines[p] = c.Line
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return lines
}
