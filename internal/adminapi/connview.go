package adminapi

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/connectors"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/store"
)

// connectorView is the Connector of the API contract. It never holds a
// secret value: secrets say only whether they are set and from where.
type connectorView struct {
	ID                  string                `json:"id"`
	Platform            string                `json:"platform"`
	Name                string                `json:"name"`
	Enabled             bool                  `json:"enabled"`
	Source              string                `json:"source"` // file or api
	File                string                `json:"file,omitempty"`
	WebhookURL          string                `json:"webhook_url"`
	DefaultJurisdiction string                `json:"default_jurisdiction"`
	Topics              topicsView            `json:"topics"`
	Mapping             mappingView           `json:"mapping"`
	EffectiveMapping    map[string]string     `json:"effective_mapping"`
	Consent             consentView           `json:"consent"`
	Settings            map[string]any        `json:"settings"`
	RateLimit           any                   `json:"rate_limit,omitempty"`
	Secrets             map[string]secretView `json:"secrets"`
	Handshake           map[string]string     `json:"handshake,omitempty"`
	UpdatedAt           time.Time             `json:"updated_at"`
	// Error says why this instance cannot run the stored version.
	Error string `json:"error,omitempty"`
}

type topicsView struct {
	Leads        string `json:"leads"`
	Interactions string `json:"interactions"`
	Test         string `json:"test"`
}

type mappingView struct {
	ReplaceDefaults bool              `json:"replace_defaults"`
	Fields          map[string]string `json:"fields"`
}

type consentView struct {
	Checkboxes []checkboxView `json:"checkboxes"`
	GPCField   string         `json:"gpc_field,omitempty"`
}

type checkboxView struct {
	Key     string      `json:"key"`
	Purpose string      `json:"purpose"`
	Notice  *noticeView `json:"notice,omitempty"`
}

type noticeView struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

type secretView struct {
	Set    bool   `json:"set"`
	Source string `json:"source,omitempty"` // stored, env or file
	Env    string `json:"env,omitempty"`    // the variable's name, never its value
	File   string `json:"file,omitempty"`
}

// handshakes names, per platform, the secret a platform's GET handshake
// checks, so an operator knows what to paste into the platform's console.
var handshakes = map[string]map[string]string{
	"meta":     {"verify_token_secret": "verify_token"},
	"x":        {"crc_secret": "consumer_secret"},
	"linkedin": {"challenge_secret": "client_secret"},
}

// view renders a connector from its document (what was written), its live
// build (effective values; nil when it does not build here) and secrets.
func (a *API) view(id, source string, doc map[string]any, live *config.Connector, secrets map[string]connsync.Secret, built bool) connectorView {
	v := connectorView{
		ID: id, Source: source, Name: id,
		WebhookURL:       strings.TrimRight(a.d.PublicURL, "/") + "/webhooks/" + id,
		Mapping:          mappingView{Fields: map[string]string{}},
		EffectiveMapping: map[string]string{},
		Consent:          consentView{Checkboxes: []checkboxView{}},
		Settings:         map[string]any{},
		Secrets:          map[string]secretView{},
	}
	v.Platform, _ = doc["platform"].(string)
	if n, ok := doc["name"].(string); ok && n != "" {
		v.Name = n
	}
	v.DefaultJurisdiction, _ = doc["default_jurisdiction"].(string)
	if m, ok := doc["mapping"].(map[string]any); ok {
		v.Mapping.ReplaceDefaults, _ = m["replace_defaults"].(bool)
		if fs, ok := m["fields"].(map[string]any); ok {
			for raw, canon := range fs {
				s, _ := canon.(string)
				v.Mapping.Fields[raw] = s
			}
		}
	}
	if s, ok := doc["settings"].(map[string]any); ok {
		v.Settings = s
	}
	v.RateLimit = doc["rate_limit"]
	if live != nil {
		v.Platform, v.Name, v.Enabled = live.Platform, live.Name, live.Enabled
		v.DefaultJurisdiction = live.DefaultJurisdiction
		v.Topics = topicsView{Leads: live.Topics.Leads, Interactions: live.Topics.Interactions, Test: live.Topics.Test}
		v.EffectiveMapping = live.Mapping
		v.Consent.GPCField = live.GPCField
		for _, cb := range live.Checkboxes {
			cv := checkboxView{Key: cb.Key, Purpose: cb.Purpose}
			if cb.Notice != nil {
				cv.Notice = &noticeView{ID: cb.Notice.ID, Version: cb.Notice.Version}
			}
			v.Consent.Checkboxes = append(v.Consent.Checkboxes, cv)
		}
		v.UpdatedAt = live.LoadedAt
	}
	if f, ok := connectors.Lookup(v.Platform); ok {
		for _, name := range f.Secrets {
			v.Secrets[name] = secretView{}
		}
	}
	for name, s := range secrets {
		v.Secrets[name] = secretView{Set: built, Source: s.Source(), Env: s.Env, File: s.File}
	}
	v.Handshake = handshakes[v.Platform]
	return v
}

func (a *API) fileView(c *config.Connector) connectorView {
	doc := readFileDoc(c.File)
	secrets := map[string]connsync.Secret{}
	if m, ok := doc["secrets"].(map[string]any); ok {
		for name, ref := range m {
			r, _ := ref.(map[string]any)
			env, _ := r["env"].(string)
			file, _ := r["file"].(string)
			secrets[name] = connsync.Secret{Env: env, File: file}
		}
	}
	v := a.view(c.ID, "file", doc, c, secrets, true)
	v.File = c.File
	return v
}

func (a *API) storedView(row store.Connector, sy *connsync.Syncer) connectorView {
	spec, err := connsync.DecodeSpec(row.Spec)
	if err != nil {
		spec = connsync.Spec{Doc: map[string]any{}}
	}
	live, buildErr := sy.Stored(row.ID)
	v := a.view(row.ID, "api", spec.Doc, live, spec.Secrets, live != nil && buildErr == nil)
	v.Enabled, v.UpdatedAt = row.Enabled, row.UpdatedAt
	if buildErr != nil {
		v.Error = buildErr.Error()
	}
	return v
}

// readFileDoc reads a connector file as a generic document, for showing
// the mapping and settings as written. The file was validated at start.
func readFileDoc(path string) map[string]any {
	doc := map[string]any{}
	b, err := os.ReadFile(path)
	if err != nil {
		return doc
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil || m == nil {
		return doc
	}
	// Round-trip through JSON so the document has JSON's types only.
	j, err := json.Marshal(m)
	if err != nil || json.Unmarshal(j, &doc) != nil {
		return map[string]any{}
	}
	return doc
}

func sortViews(vs []connectorView) {
	sort.Slice(vs, func(i, j int) bool { return vs[i].ID < vs[j].ID })
}
