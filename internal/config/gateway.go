package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// Gateway is the gateway's own configuration file. Field comments are the
// operator documentation (docs/configuration.md repeats them).
type Gateway struct {
	// Listen is the HTTP address for webhooks, the admin API and metrics.
	// Env CONSENTGATE_LISTEN. Default 127.0.0.1:8080.
	Listen string `yaml:"listen" validate:"required,hostname_port" example:"127.0.0.1:8080" fix:"set listen: HOST:PORT, e.g. 127.0.0.1:8080, or CONSENTGATE_LISTEN"`
	// PublicURL is how platforms reach this gateway (printed webhook URLs).
	// Default http://<listen>.
	PublicURL string   `yaml:"public_url" validate:"omitempty,url"`
	Database  Database `yaml:"database"`
	Kafka     Kafka    `yaml:"kafka"`
	Topics    Topics   `yaml:"topics"`
	// Policy is the consent policy file, relative to this file.
	// Env CONSENTGATE_POLICY (relative to the working directory).
	// Default policy.yaml.
	Policy string `yaml:"policy" validate:"required" fix:"set policy: PATH (relative to this file), or CONSENTGATE_POLICY"`
	// ConnectorsDir holds one YAML file per connector, relative to this
	// file. Env CONSENTGATE_CONNECTORS_DIR (relative to the working
	// directory). Default connectors.
	ConnectorsDir string `yaml:"connectors_dir" validate:"required" fix:"set connectors_dir: DIR (relative to this file), or CONSENTGATE_CONNECTORS_DIR"`
	// HashKey keys subject keys and hashed fields (HMAC-SHA256), at least
	// 32 bytes. Changing it changes every subject key: keep it stable.
	HashKey SecretRef `yaml:"hash_key"`
	// AdminToken is the bearer token of the admin API (/api/v1).
	AdminToken SecretRef `yaml:"admin_token"`
	// APISecretRefs says which env and file references connectors created
	// through the admin API may use. Default none: API connectors store
	// their secrets as encrypted values.
	APISecretRefs APISecretRefs `yaml:"api_secret_refs"`
	Limits        Limits        `yaml:"limits"`
	Dedupe        Dedupe        `yaml:"dedupe"`
	HTTP          HTTP          `yaml:"http"`
	Outbox        Outbox        `yaml:"outbox"`
	Jobs          Jobs          `yaml:"jobs"`
	Log           Log           `yaml:"log"`

	// Dir is the directory of the file, for relative paths.
	Dir string `yaml:"-"`
	// File is the path the config was read from ("" for defaults).
	File string `yaml:"-"`

	// lines maps key paths to their lines in File, for problems found
	// after decoding (env overrides, the hash key).
	lines map[string]int
	// fromEnv maps a key an environment variable set to the variable.
	fromEnv map[string]string
}

type Database struct {
	// URL: postgres://user:pass@host:5432/db?sslmode=… or sqlite:PATH.
	// Env CONSENTGATE_DATABASE_URL. Default sqlite:./data/consentgate.db.
	URL string `yaml:"url" validate:"required" fix:"set database.url: postgres://USER:PASS@HOST:5432/DB or sqlite:PATH, or CONSENTGATE_DATABASE_URL"`
}

type Kafka struct {
	// Brokers are bootstrap addresses. Env CONSENTGATE_KAFKA_BROKERS
	// (comma-separated). Default [127.0.0.1:9092].
	Brokers []string `yaml:"brokers" validate:"required,min=1,dive,hostname_port" example:"127.0.0.1:9092" fix:"set kafka.brokers: [HOST:PORT, …], e.g. [127.0.0.1:9092], or CONSENTGATE_KAFKA_BROKERS"`
	// Linger is how long a batch waits for more records before it is
	// sent; concurrent webhooks share batches. Default 5ms.
	Linger time.Duration `yaml:"linger" validate:"gte=0"`
	// WriteTimeout bounds one produce. Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout" validate:"gt=0"`
	// AutoCreateTopics creates missing topics at start. Default true.
	AutoCreateTopics bool `yaml:"auto_create_topics"`
	// Partitions for topics created by the gateway. Default 3.
	Partitions int `yaml:"partitions" validate:"gte=1"`
	// ClientID names the gateway to the brokers. Default consentgate.
	ClientID string `yaml:"client_id"`
}

// Topics are the Kafka topic names (DESIGN.md §5).
type Topics struct {
	Leads        string `yaml:"leads" validate:"required"`
	Interactions string `yaml:"interactions" validate:"required"`
	Consent      string `yaml:"consent" validate:"required"`
	// Test receives platform test leads, never the production topic.
	Test string `yaml:"test" validate:"required"`
}

type Limits struct {
	// MaxBodyBytes: larger deliveries get 413. Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" validate:"gte=1024"`
	// MaxInFlight bounds concurrent webhook requests; more get 503 with
	// Retry-After instead of growing memory. Default 1024.
	MaxInFlight int `yaml:"max_in_flight" validate:"gte=1"`
}

type Dedupe struct {
	// Window is how long an event id is remembered. Platforms retry for
	// up to 72h. Default 168h (7 days).
	Window time.Duration `yaml:"window" validate:"gt=0"`
	// Lease: a claim left pending longer (its process died) can be taken
	// over. Default 2m.
	Lease time.Duration `yaml:"lease" validate:"gt=0"`
}

type HTTP struct {
	ReadTimeout     time.Duration `yaml:"read_timeout" validate:"gt=0"`     // default 15s
	WriteTimeout    time.Duration `yaml:"write_timeout" validate:"gt=0"`    // default 30s
	IdleTimeout     time.Duration `yaml:"idle_timeout" validate:"gt=0"`     // default 120s
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" validate:"gt=0"` // default 20s
}

type Outbox struct {
	// KafkaTimeout: a record Kafka has not acknowledged by then goes to
	// the durable outbox and the webhook is answered 200. Default 3s.
	KafkaTimeout time.Duration `yaml:"kafka_timeout" validate:"gt=0"`
	// RelayInterval is how often the relay looks for waiting records.
	// Default 1s.
	RelayInterval time.Duration `yaml:"relay_interval" validate:"gt=0"`
}

type Jobs struct {
	// Workers fetching notify-only leads. Default 4.
	Workers int `yaml:"workers" validate:"gte=1"`
	// MaxAttempts before a fetch job is dead-lettered. Default 8.
	MaxAttempts int `yaml:"max_attempts" validate:"gte=1"`
	// BaseBackoff doubles per attempt (with jitter) up to MaxBackoff.
	BaseBackoff time.Duration `yaml:"base_backoff" validate:"gt=0"` // default 2s
	MaxBackoff  time.Duration `yaml:"max_backoff" validate:"gt=0"`  // default 10m
}

type Log struct {
	Level  string `yaml:"level" validate:"oneof=debug info warn error"` // default info
	Format string `yaml:"format" validate:"oneof=json text"`            // default json
}

// APISecretRefs is the operator's allowlist for secret references in
// connectors written through the admin API. A reference is resolved on the
// gateway's host, and the connector then sends the secret to its platform
// (or to the fetch URL it names): without a list, anyone allowed to edit
// connectors could have any variable or file of the host sent out.
type APISecretRefs struct {
	// EnvPrefixes: environment variables whose names start with one of
	// these may be referenced, e.g. [CONNECTOR_]. CONSENTGATE_* never.
	EnvPrefixes []string `yaml:"env_prefixes" validate:"dive,required,printascii,excludesall= "`
	// FileDirs: files inside one of these directories (relative: to this
	// config file), after symbolic links are resolved.
	FileDirs []string `yaml:"file_dirs" validate:"dive,required"`
}

// reservedEnvPrefix names the gateway's own secrets (admin token, hash key,
// key ring): never readable through a connector.
const reservedEnvPrefix = "CONSENTGATE_"

// AllowRef reports why an API connector may not use ref, or nil. base
// resolves relative file references (the connectors directory) and dir
// relative FileDirs (the config file's directory).
func (a APISecretRefs) AllowRef(ref SecretRef, base, dir string) error {
	switch {
	case ref.Env != "":
		if strings.HasPrefix(strings.ToUpper(ref.Env), reservedEnvPrefix) {
			return fmt.Errorf("environment variable %s is one of the gateway's own settings and cannot be a connector secret: send the secret as {\"value\": \"…\"}", ref.Env)
		}
		for _, p := range a.EnvPrefixes {
			if strings.HasPrefix(ref.Env, p) {
				return nil
			}
		}
		if len(a.EnvPrefixes) == 0 {
			return fmt.Errorf("env references are off for connectors written through the API: send the secret as {\"value\": \"…\"} (stored encrypted), or have the operator allow variables by prefix in the gateway config's api_secret_refs.env_prefixes")
		}
		return fmt.Errorf("environment variable %s does not start with any of api_secret_refs.env_prefixes (%s): use an allowed name, or send the secret as {\"value\": \"…\"}", ref.Env, strings.Join(a.EnvPrefixes, ", "))
	case ref.File != "":
		// A ".." after a symbolic link leads wherever the link's target
		// has a parent, which cleaning the path would hide from the check.
		if slices.Contains(strings.Split(filepath.ToSlash(ref.File), "/"), "..") {
			return fmt.Errorf("file %s: a path for an API connector may not contain \"..\": name the file inside an allowed directory directly", ref.File)
		}
		p := ref.File
		if !filepath.IsAbs(p) && base != "" {
			p = filepath.Join(base, p)
		}
		p = realPath(p)
		for _, d := range a.FileDirs {
			if !filepath.IsAbs(d) && dir != "" {
				d = filepath.Join(dir, d)
			}
			if rel, err := filepath.Rel(realPath(d), p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "." {
				return nil
			}
		}
		if len(a.FileDirs) == 0 {
			return fmt.Errorf("file references are off for connectors written through the API: send the secret as {\"value\": \"…\"} (stored encrypted), or have the operator allow a directory in the gateway config's api_secret_refs.file_dirs")
		}
		return fmt.Errorf("file %s is outside api_secret_refs.file_dirs: put it in an allowed directory, or send the secret as {\"value\": \"…\"}", ref.File)
	}
	return nil
}

// realPath is p absolute and cleaned, its symbolic links resolved when it
// exists, so a link cannot lead out of an allowed directory.
func realPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		return filepath.Join(r, filepath.Base(p))
	}
	return filepath.Clean(p)
}

// SecretRef names where a secret lives; the value itself never sits in a
// config file.
type SecretRef struct {
	Env  string `yaml:"env" json:"env,omitempty" validate:"excluded_with=File"`
	File string `yaml:"file" json:"file,omitempty"`
}

func (r SecretRef) IsZero() bool { return r.Env == "" && r.File == "" }

// UnmarshalYAML replaces the whole reference: a file that says
// {file: PATH} for a key whose default is {env: NAME} means the file, not
// both (decoding into the default kept its env and failed validation).
func (r *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	type plain SecretRef
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*r = SecretRef(p)
	return nil
}

func (r SecretRef) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// Default is the configuration used where a file says nothing.
func Default() Gateway {
	return Gateway{
		Listen:        "127.0.0.1:8080",
		Database:      Database{URL: "sqlite:./data/consentgate.db"},
		Kafka:         Kafka{Brokers: []string{"127.0.0.1:9092"}, Linger: 5 * time.Millisecond, WriteTimeout: 10 * time.Second, AutoCreateTopics: true, Partitions: 3, ClientID: "consentgate"},
		Topics:        Topics{Leads: "crm.leads.v1", Interactions: "crm.interactions.v1", Consent: "crm.consent.v1", Test: "crm.leads.test.v1"},
		Policy:        "policy.yaml",
		ConnectorsDir: "connectors",
		HashKey:       SecretRef{Env: "CONSENTGATE_HASH_KEY"},
		AdminToken:    SecretRef{Env: "CONSENTGATE_ADMIN_TOKEN"},
		Limits:        Limits{MaxBodyBytes: 1 << 20, MaxInFlight: 1024},
		Dedupe:        Dedupe{Window: 7 * 24 * time.Hour, Lease: 2 * time.Minute},
		HTTP:          HTTP{ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, ShutdownTimeout: 20 * time.Second},
		Outbox:        Outbox{KafkaTimeout: 3 * time.Second, RelayInterval: time.Second},
		Jobs:          Jobs{Workers: 4, MaxAttempts: 8, BaseBackoff: 2 * time.Second, MaxBackoff: 10 * time.Minute},
		Log:           Log{Level: "info", Format: "json"},
	}
}

// Env overrides, applied after the file so one image runs anywhere.
var envOverrides = []struct {
	name, key string
	apply     func(g *Gateway, v string)
}{
	{"CONSENTGATE_LISTEN", "listen", func(g *Gateway, v string) { g.Listen = v }},
	{"CONSENTGATE_PUBLIC_URL", "public_url", func(g *Gateway, v string) { g.PublicURL = v }},
	{"CONSENTGATE_DATABASE_URL", "database.url", func(g *Gateway, v string) { g.Database.URL = v }},
	{"CONSENTGATE_KAFKA_BROKERS", "kafka.brokers", func(g *Gateway, v string) { g.Kafka.Brokers = splitList(v) }},
	// Paths from the environment are the caller's: relative to the
	// working directory, not to the config file as the file's own are.
	{"CONSENTGATE_POLICY", "policy", func(g *Gateway, v string) { g.Policy = absPath(v) }},
	{"CONSENTGATE_CONNECTORS_DIR", "connectors_dir", func(g *Gateway, v string) { g.ConnectorsDir = absPath(v) }},
	{"CONSENTGATE_LOG_LEVEL", "log.level", func(g *Gateway, v string) { g.Log.Level = v }},
	{"CONSENTGATE_LOG_FORMAT", "log.format", func(g *Gateway, v string) { g.Log.Format = v }},
}

// EnvOverrides lists the variables that override keys of the file, as
// "CONSENTGATE_… key" pairs, for help texts.
func EnvOverrides() [][2]string {
	out := make([][2]string, len(envOverrides))
	for i, o := range envOverrides {
		out[i] = [2]string{o.name, o.key}
	}
	return out
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LoadGateway reads the gateway file at path (strictly), applies env
// overrides and validates. Every problem is reported at once.
func LoadGateway(path string) (*Gateway, error) {
	g, err := ReadGateway(path)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// ReadGateway is LoadGateway that keeps what it read: when the file is
// YAML but has problems, it returns the gateway as decoded (defaults
// where a key was at fault) beside the problems, so the caller can check
// the policy and connector files it names in the same run and report
// every file's problems at once. The gateway is nil only when the file
// cannot be read or is not YAML. Never start anything from a gateway
// returned with an error.
func ReadGateway(path string) (*Gateway, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read gateway config: %w (pass --config with the path of your consentgate.yaml)", err)
	}
	return readGateway(path, data)
}

func readGateway(path string, data []byte) (*Gateway, error) {
	g := Default()
	g.File = path
	g.Dir = filepath.Dir(path)
	root, ps := yamlx.Parse(path, data)
	if len(ps) > 0 {
		return nil, ps
	}
	ps = yamlx.Decode(path, root, &g, "")
	g.lines = keyLines(root) // after Decode: it drops duplicate keys
	if len(ps) > 0 {
		// Env overrides apply even so: the files they name are the ones
		// the gateway would use.
		g.applyEnv()
		return &g, ps.Err()
	}
	return &g, g.finish()
}

// finish applies env overrides and validates what files and env set.
func (g *Gateway) finish() error {
	g.applyEnv()
	return g.Validate()
}

// ApplyEnv applies the CONSENTGATE_* overrides to g and validates it.
func (g *Gateway) ApplyEnv() error { return g.finish() }

func (g *Gateway) applyEnv() {
	for _, o := range envOverrides {
		if v, ok := os.LookupEnv(o.name); ok && v != "" {
			o.apply(g, v)
			if g.fromEnv == nil {
				g.fromEnv = map[string]string{}
			}
			g.fromEnv[o.key] = o.name
		}
	}
}

// Problem is a problem with key, found after the file was read: it names
// the file and the key's line, or the environment variable that set the
// key (a value from the environment is not the file's fault).
func (g *Gateway) Problem(key, msg string) yamlx.Problem {
	for k := key; k != ""; {
		if name, ok := g.fromEnv[k]; ok {
			p := yamlx.Problem{File: name + " (overrides " + k + ")", Msg: msg}
			if k != key {
				p.Key = key
			}
			return p
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	file := g.File
	if file == "" {
		file = "(defaults)"
	}
	return yamlx.Problem{File: file, Line: yamlx.LineOf(g.lines, key), Key: key, Msg: msg}
}

// Validate checks g after any change made in code (dev mode flags).
func (g *Gateway) Validate() error {
	ps := yamlx.Validate(g.File, g, "", nil)
	for i, p := range ps {
		ps[i] = g.Problem(p.Key, p.Msg)
	}
	if g.HashKey.IsZero() {
		ps = append(ps, g.Problem("hash_key", "is required: set {env: NAME} or {file: PATH} with at least 32 random bytes"))
	}
	if g.PublicURL == "" {
		g.PublicURL = "http://" + g.Listen
	}
	return ps.Err()
}

// Path resolves p relative to the config file's directory.
func (g *Gateway) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || g.Dir == "" {
		return p
	}
	return filepath.Join(g.Dir, p)
}

// ResolveSecret reads a secret reference. base resolves relative files.
func ResolveSecret(ref SecretRef, base string) (string, error) {
	switch {
	case ref.Env != "":
		v, ok := os.LookupEnv(ref.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set: export it, or point the secret at a file with {file: PATH}", ref.Env)
		}
		return v, nil
	case ref.File != "":
		p := ref.File
		if !filepath.IsAbs(p) && base != "" {
			p = filepath.Join(base, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("read secret file %s: %w", p, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", p)
		}
		return v, nil
	}
	return "", fmt.Errorf("no source given: use {env: NAME} or {file: PATH}")
}
