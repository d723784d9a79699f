package connsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/consentgate/consentgate/connectors"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/secretbox"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// Secret is one secret of a stored connector: a reference (env or file,
// resolved on each instance) or a value sealed with the key ring.
type Secret struct {
	Env    string `json:"env,omitempty"`
	File   string `json:"file,omitempty"`
	Sealed string `json:"sealed,omitempty"`
}

// Source names where the value comes from: "env", "file" or "stored".
func (s Secret) Source() string {
	switch {
	case s.Sealed != "":
		return "stored"
	case s.Env != "":
		return "env"
	case s.File != "":
		return "file"
	}
	return ""
}

// Ref is the reference form of an env or file secret.
func (s Secret) Ref() config.SecretRef { return config.SecretRef{Env: s.Env, File: s.File} }

// Spec is a stored connector's spec column: the keys of a connector file
// (docs/configuration.md) as JSON, except enabled (a column of its own)
// and secrets, kept apart so the document can be compared and shown
// without them.
type Spec struct {
	Doc     map[string]any
	Secrets map[string]Secret
}

// DecodeSpec reads a spec column.
func DecodeSpec(raw []byte) (Spec, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers keep their text, so a spec survives a round trip unchanged
	if err := dec.Decode(&doc); err != nil {
		return Spec{}, fmt.Errorf("decode connector spec: %w", err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	s := Spec{Doc: doc, Secrets: map[string]Secret{}}
	if sec, ok := doc["secrets"]; ok {
		delete(doc, "secrets")
		b, err := json.Marshal(sec)
		if err != nil {
			return Spec{}, fmt.Errorf("decode connector spec secrets: %w", err)
		}
		if err := json.Unmarshal(b, &s.Secrets); err != nil {
			return Spec{}, fmt.Errorf("decode connector spec secrets: %w", err)
		}
	}
	delete(doc, "enabled")
	return s, nil
}

// Encode renders the spec column (map keys sorted: equal specs encode to
// equal bytes).
func (s Spec) Encode() (json.RawMessage, error) {
	doc := maps.Clone(s.Doc)
	if doc == nil {
		doc = map[string]any{}
	}
	delete(doc, "enabled")
	if len(s.Secrets) > 0 {
		doc["secrets"] = s.Secrets
	} else {
		delete(doc, "secrets")
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode connector spec: %w", err)
	}
	return b, nil
}

// SameDoc reports whether two documents are equal as JSON.
func SameDoc(a, b map[string]any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// ChangedKeys lists the top-level keys whose value differs, sorted.
func ChangedKeys(a, b map[string]any) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !SameDoc(map[string]any{"v": a[k]}, map[string]any{"v": b[k]}) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// AD is the additional data a secret value is sealed with: a sealed value
// opens only for the connector and secret name it was sealed for.
func AD(connectorID, name string) string { return "connector/" + connectorID + "/secret/" + name }

// ErrKey marks a failure to open a sealed secret (no, unknown or wrong
// key): the gateway must not run with it, rather than run with garbage.
var ErrKey = errors.New("secret encryption key")

// Builder turns connector documents into live connectors, validating them
// with the same code as connector files (config.ParseConnector).
type Builder struct {
	// Options carry the gateway, policy, clock and HTTP client. Options.Secret
	// is ignored: Resolve resolves env and file references.
	Options config.ConnectorOptions
	// Resolve reads an env or file reference; default config.ResolveSecret.
	Resolve func(ref config.SecretRef) (string, error)
	// Ring opens sealed values; nil when no key is configured.
	Ring *secretbox.Ring
}

// Build validates doc (the connector file's keys, without enabled and
// secrets) with the secrets given: values by name (plain, not sealed),
// and references by name. Problems come back as yamlx.Problems whose keys
// are the document's field paths.
func (b *Builder) Build(id string, enabled bool, doc map[string]any, values map[string]string, refs map[string]config.SecretRef) (*config.Connector, error) {
	d := maps.Clone(doc)
	if d == nil {
		d = map[string]any{}
	}
	if _, ok := d["id"]; !ok {
		d["id"] = id
	}
	d["enabled"] = enabled
	secrets := map[string]config.SecretRef{}
	for name, ref := range refs {
		secrets[name] = ref
	}
	for name := range values {
		// A placeholder the resolver below never reads from disk: stored
		// values are looked up by name first.
		secrets[name] = config.SecretRef{File: "(stored in the database)"}
	}
	if len(secrets) > 0 {
		d["secrets"] = secrets
	} else {
		delete(d, "secrets")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode connector %s: %w", id, err)
	}
	opts := b.Options
	resolve := b.Resolve
	if resolve == nil {
		resolve = func(ref config.SecretRef) (string, error) { return config.ResolveSecret(ref, "") }
	}
	var allow config.APISecretRefs
	var base, dir string
	if g := opts.Gateway; g != nil {
		allow, base, dir = g.APISecretRefs, g.Path(g.ConnectorsDir), g.Dir
	}
	opts.Secret = func(_, name string, ref config.SecretRef) (string, error) {
		if v, ok := values[name]; ok {
			return v, nil
		}
		// Checked before anything is read: the answer must not tell
		// whether a file or variable exists.
		if err := allow.AllowRef(ref, base, dir); err != nil {
			return "", err
		}
		return resolve(ref)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	file := "api:" + id
	c, err := config.ParseConnector(file, data, opts)
	if ps := fileOnlySettings(file, doc); len(ps) > 0 {
		var more yamlx.Problems
		if err != nil && !errors.As(err, &more) {
			return nil, err
		}
		return nil, append(more, ps...).Err()
	}
	return c, err
}

// fileOnlySettings refuses the settings the platform keeps for connector
// files (connectors.Factory.FileOnly): set through the API, a fetcher's
// base_url would let anyone allowed to edit a connector have its stored
// token sent to a server of their choosing.
func fileOnlySettings(file string, doc map[string]any) yamlx.Problems {
	platform, _ := doc["platform"].(string)
	f, ok := connectors.Lookup(platform)
	if !ok {
		return nil // reported by the connector checks
	}
	settings, _ := doc["settings"].(map[string]any)
	var ps yamlx.Problems
	for _, key := range f.FileOnly {
		if _, set := settings[key]; set {
			ps = append(ps, yamlx.Problem{File: file, Key: "settings." + key, Msg: "can be set only in a connector file (it decides where the platform token is sent): leave it out to use the platform's own API"})
		}
	}
	return ps
}

// Open returns the plain values of a spec's sealed secrets and its
// references. Errors wrap ErrKey and name the secret, never its value.
func (b *Builder) Open(id string, s Spec) (values map[string]string, refs map[string]config.SecretRef, err error) {
	values, refs = map[string]string{}, map[string]config.SecretRef{}
	for name, sec := range s.Secrets {
		if sec.Sealed == "" {
			refs[name] = sec.Ref()
			continue
		}
		pt, err := b.Ring.Open(sec.Sealed, AD(id, name))
		if err != nil {
			return nil, nil, fmt.Errorf("connector %s secret %s: %w: %w", id, name, ErrKey, err)
		}
		values[name] = string(pt)
	}
	return values, refs, nil
}

// BuildStored builds a stored connector.
func (b *Builder) BuildStored(c store.Connector) (*config.Connector, error) {
	s, err := DecodeSpec(c.Spec)
	if err != nil {
		return nil, fmt.Errorf("connector %s: %w", c.ID, err)
	}
	values, refs, err := b.Open(c.ID, s)
	if err != nil {
		return nil, err
	}
	return b.Build(c.ID, c.Enabled, s.Doc, values, refs)
}
