package adminapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/connectors"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/store"
)

// connectorRoutes manage connectors. Connectors from files are read-only
// here (409): the file is their source of truth. Connectors written here
// are stored, with secret values sealed, and go live on every instance
// within a poll interval (internal/connsync).
var connectorRoutes = []Route{
	{http.MethodGet, "/connectors", []Role{RoleMarketer, RoleAuditor}, func(a *API) gin.HandlerFunc { return a.listConnectors }},
	{http.MethodPost, "/connectors", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.createConnector }},
	{http.MethodGet, "/connectors/:id", []Role{RoleMarketer, RoleAuditor}, func(a *API) gin.HandlerFunc { return a.getConnector }},
	{http.MethodPut, "/connectors/:id", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.putConnector }},
	{http.MethodDelete, "/connectors/:id", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.deleteConnector }},
	{http.MethodPost, "/connectors/:id/enable", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.setEnabled(true) }},
	{http.MethodPost, "/connectors/:id/disable", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.setEnabled(false) }},
	{http.MethodPost, "/connectors/:id/secrets/:name", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.rotateSecret }},
	{http.MethodPost, "/connectors/:id/dry-run", []Role{RoleMarketer}, func(a *API) gin.HandlerFunc { return a.dryRun }},
}

// syncer returns the live connector set, or answers 503.
func (a *API) syncer(c *gin.Context) (*connsync.Syncer, bool) {
	if a.d.Connectors == nil {
		httpapi.WriteError(c, http.StatusServiceUnavailable, "unavailable", "connector management is not configured on this gateway")
		return nil, false
	}
	return a.d.Connectors, true
}

// writable answers 409 for a file connector.
func writable(c *gin.Context, sy *connsync.Syncer, id string) bool {
	if f, ok := sy.File(id); ok {
		httpapi.WriteError(c, http.StatusConflict, "file_connector",
			"connector "+id+" is defined in the file "+f.File+" and is read-only through the API; change the file (it can live in git) or remove it and create the connector here")
		return false
	}
	return true
}

func (a *API) listConnectors(c *gin.Context) {
	sy, ok := a.syncer(c)
	if !ok {
		return
	}
	rows, err := a.d.Store.ListConnectors(c.Request.Context())
	if err != nil {
		a.internalError(c, "list connectors", err)
		return
	}
	out := []connectorView{}
	for _, f := range sy.Files() {
		out = append(out, a.fileView(f))
	}
	for _, row := range rows {
		if _, isFile := sy.File(row.ID); !isFile {
			out = append(out, a.storedView(row, sy))
		}
	}
	sortViews(out)
	c.JSON(http.StatusOK, gin.H{"connectors": out})
}

// lookup finds a connector's view; ok is false once it has answered.
func (a *API) lookup(c *gin.Context, sy *connsync.Syncer, id string) (connectorView, bool) {
	if f, isFile := sy.File(id); isFile {
		return a.fileView(f), true
	}
	row, err := a.d.Store.GetConnector(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no connector with this id")
		return connectorView{}, false
	}
	if err != nil {
		a.internalError(c, "read the connector", err)
		return connectorView{}, false
	}
	return a.storedView(row, sy), true
}

func (a *API) getConnector(c *gin.Context) {
	sy, ok := a.syncer(c)
	if !ok {
		return
	}
	if v, ok := a.lookup(c, sy, c.Param("id")); ok {
		c.JSON(http.StatusOK, v)
	}
}

func (a *API) putConnector(c *gin.Context) {
	if in, ok := readSpec(c, c.Param("id"), a.d.Topics); ok {
		a.applySpec(c, in, false)
	}
}

func (a *API) createConnector(c *gin.Context) {
	if in, ok := readSpec(c, "", a.d.Topics); ok {
		a.applySpec(c, in, true)
	}
}

// applySpec validates a spec as a connector file would be, and stores it
// unless it equals what is stored (then nothing is written or audited).
func (a *API) applySpec(c *gin.Context, in specIn, create bool) {
	sy, ok := a.syncer(c)
	if !ok || !writable(c, sy, in.id) {
		return
	}
	ctx := c.Request.Context()
	b := sy.Builder()
	row, err := a.d.Store.GetConnector(ctx, in.id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.internalError(c, "read the connector", err)
		return
	}
	if exists && create {
		httpapi.WriteError(c, http.StatusConflict, "exists", "connector "+in.id+" exists already; PUT /api/v1/connectors/"+in.id+" replaces it")
		return
	}
	old := connsync.Spec{Doc: map[string]any{}, Secrets: map[string]connsync.Secret{}}
	oldPlain := map[string]string{}
	if exists {
		if old, err = connsync.DecodeSpec(row.Spec); err == nil {
			oldPlain, _, err = b.Open(in.id, old)
		}
		if err != nil {
			a.internalError(c, "read the stored connector's secrets", err)
			return
		}
	}

	// Secrets a body leaves out are kept: they are write-only, so a client
	// that read the connector cannot send them back.
	merged := map[string]secretIn{}
	for name := range old.Secrets {
		merged[name] = secretIn{kind: "keep"}
	}
	for name, s := range in.secrets {
		switch {
		case s.kind == "remove":
			delete(merged, name)
		case s.kind == "keep" && old.Secrets[name] == (connsync.Secret{}):
		default:
			merged[name] = s
		}
	}
	values, refs := map[string]string{}, map[string]config.SecretRef{}
	errs := fieldErrors{}
	for name, s := range merged {
		switch s.kind {
		case "keep":
			if o := old.Secrets[name]; o.Sealed != "" {
				values[name] = oldPlain[name]
			} else {
				refs[name] = o.Ref()
			}
		case "value":
			if b.Ring == nil {
				errs.add("secrets."+name, "this gateway has no encryption key for stored secrets (CONSENTGATE_SECRET_KEYS); reference the secret with {\"env\": \"VAR\"} or {\"file\": \"/path\"}, or configure a key")
			}
			values[name] = s.value
		case "ref":
			refs[name] = s.ref
		}
	}
	enabled := true
	if exists {
		enabled = row.Enabled
	}
	if in.enabled != nil {
		enabled = *in.enabled
	}
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	built, err := b.Build(in.id, enabled, in.doc, values, refs)
	if err != nil {
		writeInvalidFields(c, problemFields(err))
		return
	}

	if exists && enabled == row.Enabled && connsync.SameDoc(old.Doc, in.doc) && secretsEqual(old, oldPlain, merged) {
		c.JSON(http.StatusOK, gin.H{"connector": a.storedView(row, sy), "changed": false})
		return
	}
	spec := connsync.Spec{Doc: in.doc, Secrets: map[string]connsync.Secret{}}
	for name, s := range merged {
		switch s.kind {
		case "keep":
			spec.Secrets[name] = old.Secrets[name]
		case "ref":
			spec.Secrets[name] = connsync.Secret{Env: s.ref.Env, File: s.ref.File}
		case "value":
			sealed, err := b.Ring.Seal([]byte(s.value), connsync.AD(in.id, name))
			if err != nil {
				a.internalError(c, "encrypt the secret", err)
				return
			}
			spec.Secrets[name] = connsync.Secret{Sealed: sealed}
		}
	}
	raw, err := spec.Encode()
	if err != nil {
		a.internalError(c, "encode the connector", err)
		return
	}
	next := store.Connector{ID: in.id, Platform: built.Platform, Name: built.Name, Enabled: enabled, Spec: raw,
		UpdatedAt: a.nextStamp(row.UpdatedAt)}
	if err := a.d.Store.PutConnector(ctx, next); err != nil {
		a.internalError(c, "store the connector", err)
		return
	}
	changed := connsync.ChangedKeys(old.Doc, in.doc)
	if enabled != row.Enabled {
		changed = append(changed, "enabled")
	}
	changed = append(changed, changedSecrets(old, oldPlain, merged)...)
	if exists {
		a.audit(c, "connector.update", in.id, map[string]string{"platform": built.Platform, "changed": strings.Join(changed, ",")})
	} else {
		a.audit(c, "connector.create", in.id, map[string]string{"platform": built.Platform})
	}
	a.resync(c, sy)
	v := a.storedView(next, sy)
	if create {
		c.JSON(http.StatusCreated, v)
		return
	}
	c.JSON(http.StatusOK, gin.H{"connector": v, "changed": true})
}

// nextStamp is now, but always after prev, so every write changes
// updated_at even within one clock tick.
func (a *API) nextStamp(prev time.Time) time.Time {
	now := a.d.Now().UTC().Truncate(time.Microsecond)
	if !now.After(prev) {
		now = prev.UTC().Add(time.Microsecond)
	}
	return now
}

// resync makes this instance's live set reflect a change at once; other
// instances pick it up on their next poll.
func (a *API) resync(c *gin.Context, sy *connsync.Syncer) {
	if err := sy.Sync(c.Request.Context()); err != nil {
		a.d.Log.Warn("connector sync after change", "err", err, "request_id", httpapi.RequestID(c))
	}
}

func (a *API) deleteConnector(c *gin.Context) {
	sy, ok := a.syncer(c)
	id := c.Param("id")
	if !ok || !writable(c, sy, id) {
		return
	}
	err := a.d.Store.DeleteConnector(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no connector with this id")
		return
	}
	if err != nil {
		a.internalError(c, "delete the connector", err)
		return
	}
	a.audit(c, "connector.delete", id, nil)
	a.resync(c, sy)
	c.Status(http.StatusNoContent)
}

// storedRow reads a stored, writable connector or answers.
func (a *API) storedRow(c *gin.Context) (*connsync.Syncer, store.Connector, bool) {
	sy, ok := a.syncer(c)
	id := c.Param("id")
	if !ok || !writable(c, sy, id) {
		return nil, store.Connector{}, false
	}
	row, err := a.d.Store.GetConnector(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no connector with this id")
		return nil, row, false
	}
	if err != nil {
		a.internalError(c, "read the connector", err)
		return nil, row, false
	}
	return sy, row, true
}

func (a *API) setEnabled(want bool) gin.HandlerFunc {
	action := map[bool]string{true: "connector.enable", false: "connector.disable"}[want]
	return func(c *gin.Context) {
		sy, row, ok := a.storedRow(c)
		if !ok {
			return
		}
		if row.Enabled != want {
			row.Enabled, row.UpdatedAt = want, a.nextStamp(row.UpdatedAt)
			if err := a.d.Store.PutConnector(c.Request.Context(), row); err != nil {
				a.internalError(c, "store the connector", err)
				return
			}
			a.audit(c, action, row.ID, nil)
			a.resync(c, sy)
		}
		c.JSON(http.StatusOK, a.storedView(row, sy))
	}
}

type rotateRequest struct {
	Value string `json:"value" validate:"required,max=16384"`
}

func (a *API) rotateSecret(c *gin.Context) {
	sy, row, ok := a.storedRow(c)
	if !ok {
		return
	}
	var req rotateRequest
	if _, ok := readStrictJSON(c, &req, 32<<10); !ok {
		return
	}
	if errs := validateStruct(req); len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	name := c.Param("name")
	b := sy.Builder()
	if f, ok := connectors.Lookup(row.Platform); !ok || !slices.Contains(f.Secrets, name) {
		writeInvalidFields(c, fieldErrors{"name": "platform " + row.Platform + " reads no secret of this name; it reads: " + strings.Join(f.Secrets, ", ")})
		return
	}
	if b.Ring == nil {
		writeInvalidFields(c, fieldErrors{"value": "this gateway has no encryption key for stored secrets (CONSENTGATE_SECRET_KEYS); configure a key, or reference the secret with env/file in the connector spec"})
		return
	}
	spec, err := connsync.DecodeSpec(row.Spec)
	var values map[string]string
	var refs map[string]config.SecretRef
	if err == nil {
		values, refs, err = b.Open(row.ID, spec)
	}
	if err != nil {
		a.internalError(c, "read the stored connector's secrets", err)
		return
	}
	delete(refs, name)
	values[name] = req.Value
	if _, err := b.Build(row.ID, row.Enabled, spec.Doc, values, refs); err != nil {
		writeInvalidFields(c, problemFields(err))
		return
	}
	sealed, err := b.Ring.Seal([]byte(req.Value), connsync.AD(row.ID, name))
	if err != nil {
		a.internalError(c, "encrypt the secret", err)
		return
	}
	spec.Secrets[name] = connsync.Secret{Sealed: sealed}
	if row.Spec, err = spec.Encode(); err != nil {
		a.internalError(c, "encode the connector", err)
		return
	}
	row.UpdatedAt = a.nextStamp(row.UpdatedAt)
	if err := a.d.Store.PutConnector(c.Request.Context(), row); err != nil {
		a.internalError(c, "store the connector", err)
		return
	}
	a.audit(c, "connector.secret.rotate", row.ID, map[string]string{"secret": name})
	a.resync(c, sy)
	c.Status(http.StatusNoContent)
}

type dryRunRequest struct {
	Payload     json.RawMessage   `json:"payload"`
	PayloadText *string           `json:"payload_text"`
	Headers     map[string]string `json:"headers"`
	UseLedger   bool              `json:"use_ledger"`
}

// dryRun explains what the pipeline would do with a sample payload: field
// by field, with rule and consent. Nothing is verified, forwarded, stored
// or logged (the payload may be personal data).
func (a *API) dryRun(c *gin.Context) {
	var req dryRunRequest
	if _, ok := readStrictJSON(c, &req, 1<<20); !ok {
		return
	}
	hasPayload := len(req.Payload) > 0 && string(req.Payload) != "null"
	if hasPayload == (req.PayloadText != nil) {
		writeInvalidFields(c, fieldErrors{"payload": "give exactly one of payload (JSON) or payload_text (raw text)"})
		return
	}
	id := c.Param("id")
	conn, ok := a.d.Pipeline.Connectors()[id] // disabled ones too: test before enabling
	if !ok {
		httpapi.WriteError(c, http.StatusNotFound, "not_found", "no live connector with this id")
		return
	}
	body := []byte(req.Payload)
	if req.PayloadText != nil {
		body = []byte(*req.PayloadText)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	for k, v := range req.Headers {
		h.Set(k, v)
	}
	ir := &ingest.Request{Method: http.MethodPost, Header: h, Query: url.Values{}, Body: body,
		ReceivedAt: a.d.Now(), RequestID: httpapi.RequestID(c)}
	ex, err := a.d.Pipeline.Explain(c.Request.Context(), conn, ir, req.UseLedger)
	if err != nil {
		if st := ingest.StatusOf(err); st >= 400 && st < 500 {
			// Connector errors name fields, never their values.
			writeInvalidFields(c, fieldErrors{"payload": err.Error()})
			return
		}
		a.internalError(c, "explain the payload", err)
		return
	}
	c.JSON(http.StatusOK, ex)
}
