package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/jsonstrict"
	"github.com/consentgate/consentgate/internal/yamlx"
)

// maxSpecBytes bounds a connector spec body; real specs are a few KiB.
const maxSpecBytes = 256 << 10

// readOnlyKeys are keys of the Connector response that a client may send
// back unchanged (GET, edit, PUT); they are not part of a spec.
var readOnlyKeys = []string{"source", "webhook_url", "effective_mapping", "updated_at", "handshake", "error", "file"}

// secretIn is what a spec body says about one secret.
type secretIn struct {
	kind  string // value, ref, keep, remove
	value string
	ref   config.SecretRef
}

// specIn is a decoded connector spec body.
type specIn struct {
	id      string
	doc     map[string]any // the connector file's keys, without enabled and secrets
	enabled *bool
	secrets map[string]secretIn
}

// readSpec decodes a connector spec body (JSON with the keys of a
// connector file). pathID is the id in the URL ("" for POST). It answers
// the error itself.
func readSpec(c *gin.Context, pathID string, topics config.Topics) (specIn, bool) {
	if !jsonContent(c) {
		return specIn{}, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxSpecBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpapi.WriteError(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a connector spec must be under %d bytes", maxSpecBytes))
		} else {
			httpapi.WriteError(c, http.StatusBadRequest, "malformed", "could not read the request body")
		}
		return specIn{}, false
	}
	if err := jsonstrict.Check(body); err != nil {
		httpapi.WriteError(c, http.StatusBadRequest, "malformed", err.Error())
		return specIn{}, false
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || !atEOF(dec) || doc == nil {
		httpapi.WriteError(c, http.StatusBadRequest, "malformed", "the body must be one JSON object: a connector spec with the keys of a connector file (docs/configuration.md)")
		return specIn{}, false
	}
	for _, k := range readOnlyKeys {
		delete(doc, k)
	}
	errs := fieldErrors{}
	in := specIn{doc: doc, secrets: map[string]secretIn{}}

	id, isString := doc["id"].(string)
	switch {
	case pathID != "" && doc["id"] != nil && id != pathID:
		errs.add("id", "must match the connector id in the URL (or be left out)")
	case pathID != "":
		in.id = pathID
	case doc["id"] != nil && !isString:
		errs.add("id", `must be a string, the connector id (e.g. "meta-brand-a")`)
	case id == "":
		errs.add("id", `is required: the connector id (e.g. "meta-brand-a"), also the last part of its webhook URL`)
	default:
		in.id = id
	}
	if in.id != "" {
		doc["id"] = in.id
	}

	if v, ok := doc["enabled"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			errs.add("enabled", "must be true or false")
		}
		in.enabled = &b
		delete(doc, "enabled")
	}

	if raw, ok := doc["secrets"]; ok {
		delete(doc, "secrets")
		m, isMap := raw.(map[string]any)
		if !isMap && raw != nil {
			errs.add("secrets", `must be an object: {"<name>": {"value": "…"} | {"env": "VAR"} | {"file": "/path"}}`)
		}
		for name, v := range m {
			s, problem := secretOf(v)
			if problem != "" {
				errs.add("secrets."+name, problem)
				continue
			}
			in.secrets[name] = s
		}
	}
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return specIn{}, false
	}
	normalizeDoc(doc, in.id, topics)
	return in, true
}

// secretOf reads one secret entry. Accepted: {"value": "…"} (stored
// encrypted), {"env": "VAR"}, {"file": "/path"}, null (remove), and the
// response's own {"set": …, "source": …} (keep what is there).
func secretOf(v any) (secretIn, string) {
	if v == nil {
		return secretIn{kind: "remove"}, ""
	}
	m, ok := v.(map[string]any)
	if !ok {
		return secretIn{}, `must be an object: {"value": "…"}, {"env": "VAR"} or {"file": "/path"}`
	}
	var s secretIn
	str := func(key string) (string, bool) {
		x, ok := m[key].(string)
		return x, ok && x != ""
	}
	for k := range m {
		switch k {
		case "value", "env", "file", "set", "source":
		default:
			return secretIn{}, fmt.Sprintf("unknown key %q; use value, env or file", k)
		}
	}
	val, hasVal := str("value")
	env, hasEnv := str("env")
	file, hasFile := str("file")
	_, valGiven := m["value"]
	switch {
	case valGiven && !hasVal:
		return secretIn{}, "value must be a non-empty string"
	case hasVal && (hasEnv || hasFile), hasEnv && hasFile:
		return secretIn{}, "give one of value, env or file"
	case hasVal:
		if len(val) > 16<<10 {
			return secretIn{}, "value must be at most 16 KiB"
		}
		s = secretIn{kind: "value", value: val}
	case hasEnv || hasFile:
		s = secretIn{kind: "ref", ref: config.SecretRef{Env: env, File: file}}
	default:
		s = secretIn{kind: "keep"}
	}
	return s, ""
}

var settingsKeyRe = regexp.MustCompile(`^(settings(?:\.[A-Za-z0-9_.\[\]-]+)?): `)
var secretNameRe = regexp.MustCompile(`secret "([A-Za-z0-9_.-]+)"`)

// problemFields turns connector validation problems (the same ones a
// connector file gets) into error.fields, keyed by the spec's field path.
func problemFields(err error) fieldErrors {
	errs := fieldErrors{}
	var ps yamlx.Problems
	if !errors.As(err, &ps) {
		errs.add("spec", err.Error())
		return errs
	}
	for _, p := range ps {
		key, msg := p.Key, p.Msg
		// Platforms report settings problems as "settings.x: …" in one
		// message, and missing secrets by name: move them to their field.
		if m := settingsKeyRe.FindStringSubmatch(msg); m != nil && (key == "" || key == "settings") {
			key, msg = m[1], strings.TrimPrefix(msg, m[0])
		} else if m := secretNameRe.FindStringSubmatch(msg); m != nil && (key == "" || key == "settings") {
			key = "secrets." + m[1]
		}
		if key == "" {
			key = "spec"
		}
		errs.add(key, msg)
	}
	return errs
}

// secretsEqual reports whether the merged secrets equal the stored ones:
// a value equal to the stored plaintext is no change (sealing again would
// write a new ciphertext for nothing).
func secretsEqual(old connsync.Spec, oldPlain map[string]string, merged map[string]secretIn) bool {
	if len(old.Secrets) != len(merged) {
		return false
	}
	for name, s := range merged {
		o, ok := old.Secrets[name]
		if !ok {
			return false
		}
		switch s.kind {
		case "keep":
		case "value":
			if o.Sealed == "" || oldPlain[name] != s.value {
				return false
			}
		case "ref":
			if o.Sealed != "" || o.Env != s.ref.Env || o.File != s.ref.File {
				return false
			}
		}
	}
	return true
}

// changedSecrets names the secrets that differ, for the audit line.
func changedSecrets(old connsync.Spec, oldPlain map[string]string, merged map[string]secretIn) []string {
	var out []string
	for name, s := range merged {
		if !secretsEqual(connsync.Spec{Secrets: map[string]connsync.Secret{name: old.Secrets[name]}}, oldPlain, map[string]secretIn{name: s}) {
			out = append(out, "secrets."+name)
		}
	}
	for name := range old.Secrets {
		if _, ok := merged[name]; !ok {
			out = append(out, "secrets."+name)
		}
	}
	sort.Strings(out)
	return out
}

// normalizeDoc removes what says nothing (empty values, a name equal to
// the id, topics equal to the gateway's), so a spec written by hand, one
// read back from GET and one from a YAML file compare equal when they mean
// the same. Settings are kept as written: a platform's defaults are its own.
func normalizeDoc(doc map[string]any, id string, gw config.Topics) {
	if doc["name"] == id {
		delete(doc, "name")
	}
	if t, ok := doc["topics"].(map[string]any); ok {
		def := map[string]string{"leads": gw.Leads, "interactions": gw.Interactions, "test": gw.Test}
		for k, v := range t {
			if s, _ := v.(string); v == nil || s == "" || s == def[k] {
				delete(t, k)
			}
		}
	}
	if m, ok := doc["mapping"].(map[string]any); ok {
		if m["replace_defaults"] == false {
			delete(m, "replace_defaults")
		}
		dropEmpty(m)
	}
	if cs, ok := doc["consent"].(map[string]any); ok {
		if list, ok := cs["checkboxes"].([]any); ok {
			for _, cb := range list {
				if m, ok := cb.(map[string]any); ok {
					dropEmpty(m)
				}
			}
		}
		dropEmpty(cs)
	}
	dropEmpty(doc)
}

// dropEmpty deletes keys whose value is null, "", {} or [].
func dropEmpty(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			}
		case map[string]any:
			if len(x) == 0 {
				delete(m, k)
			}
		case []any:
			if len(x) == 0 {
				delete(m, k)
			}
		}
	}
}
