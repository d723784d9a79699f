package adminapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/jsonstrict"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/subject"
)

var (
	consentWriters = []Role{RolePrivacy}
	consentReaders = []Role{RolePrivacy, RoleAuditor}
)

// consentRoutes: the consent lifecycle (docs/consent.md).
var consentRoutes = []Route{
	{http.MethodPost, "/consent/grant", consentWriters, func(a *API) gin.HandlerFunc { return a.recordConsent(store.StatusGranted) }},
	{http.MethodPost, "/consent/withdraw", consentWriters, func(a *API) gin.HandlerFunc { return a.recordConsent(store.StatusWithdrawn) }},
	{http.MethodPost, "/consent/lookup", consentReaders, func(a *API) gin.HandlerFunc { return a.lookupSubject }},
	{http.MethodGet, "/consent/subjects/:key", consentReaders, func(a *API) gin.HandlerFunc { return a.getSubject }},
	{http.MethodPost, "/consent/erase", consentWriters, func(a *API) gin.HandlerFunc { return a.eraseSubject }},
	{http.MethodGet, "/consent/tombstones", consentReaders, func(a *API) gin.HandlerFunc { return a.listTombstones }},
}

// subjectRef names a subject in a request: exactly one of an e-mail, a
// phone number (international form), a platform account or a subject key.
// Identifiers are hashed at once and never stored or logged.
type subjectRef struct {
	Email    string `json:"email,omitempty" validate:"omitempty,max=320"`
	Phone    string `json:"phone,omitempty" validate:"omitempty,max=64"`
	Platform string `json:"platform,omitempty" validate:"required_with=UserID,max=64"`
	UserID   string `json:"user_id,omitempty" validate:"required_with=Platform,max=256"`
	Key      string `json:"key,omitempty" validate:"omitempty,max=80"`
}

type noticeRef struct {
	ID      string `json:"id" validate:"required,max=200"`
	Version string `json:"version" validate:"required,max=100"`
}

// consentChange is the body of POST /consent/grant and /consent/withdraw.
type consentChange struct {
	Subject    *subjectRef `json:"subject" validate:"required"`
	Purpose    string      `json:"purpose" validate:"required,max=100"`
	ObtainedAt string      `json:"obtained_at,omitempty"`
	Notice     *noticeRef  `json:"notice,omitempty"`
	Method     string      `json:"method,omitempty" validate:"omitempty,oneof=api admin import"`
}

type subjectRequest struct {
	Subject *subjectRef `json:"subject" validate:"required"`
}

// futureSkew is how far ahead of the gateway's clock a stated time of
// choice may be: a statement dated in the future would outrank every
// statement made until then, so clock drift is all that is tolerated.
const futureSkew = time.Minute

// earliestChoice is the earliest stated time of choice accepted, the same
// floor the generic connector puts on a record's time: nothing real
// happened before 1970, and an earlier time (year 1 is the store's "unset")
// would rank below every genuine statement.
var earliestChoice = time.Unix(0, 0).UTC()

// checkChoiceTime validates a stated time of choice (obtained_at): an
// RFC 3339 time between earliestChoice and now plus futureSkew. Problems go
// to errs under field; ok is false then.
func checkChoiceTime(field, value string, now time.Time, errs fieldErrors) (t time.Time, ok bool) {
	allowed := fmt.Sprintf("must be between %s and now (at most %s ahead, for clock skew)", earliestChoice.Format(time.RFC3339), futureSkew)
	t, err := time.Parse(time.RFC3339Nano, value)
	switch {
	case err != nil:
		errs.add(field, "must be an RFC 3339 time, e.g. 2026-11-20T10:00:00Z")
	case t.Before(earliestChoice):
		errs.add(field, "is before 1970; "+allowed)
	case t.After(now.Add(futureSkew)):
		errs.add(field, "is in the future; "+allowed+"; state when the subject made the choice")
	default:
		return t.UTC(), true
	}
	return time.Time{}, false
}

// subjectKey resolves a subjectRef; problems go to errs under "subject".
func (a *API) subjectKey(ref *subjectRef, errs fieldErrors) string {
	if ref == nil {
		return ""
	}
	forms := 0
	for _, given := range []bool{ref.Email != "", ref.Phone != "", ref.Platform != "" || ref.UserID != "", ref.Key != ""} {
		if given {
			forms++
		}
	}
	switch {
	case forms == 0:
		errs.add("subject", "give one of email, phone, platform with user_id, or key")
		return ""
	case forms > 1:
		errs.add("subject", "give only one of email, phone, platform with user_id, or key")
		return ""
	case errs.has("subject."):
		return ""
	}
	switch {
	case ref.Key != "":
		if !subject.IsKey(ref.Key) {
			errs.add("subject.key", "must be a subject key: sk_ followed by 64 lower-case hex digits")
			return ""
		}
		return ref.Key
	case ref.Email != "":
		k, ok := a.d.Keyer.Email(ref.Email)
		if !ok {
			errs.add("subject.email", "is not an e-mail address")
		}
		return k
	case ref.Phone != "":
		k, err := a.d.Keyer.Phone(ref.Phone)
		if err != nil {
			errs.add("subject.phone", "is not a possible phone number; write it in international form with a leading + and country code")
		}
		return k
	}
	k, ok := a.d.Keyer.PlatformUser(ref.Platform, ref.UserID)
	if !ok {
		errs.add("subject.user_id", "platform and user_id must both be non-blank")
	}
	return k
}

func (a *API) checkPurpose(name string, errs fieldErrors) {
	if name == "" || errs.has("purpose") {
		return
	}
	if _, ok := a.d.Policy.Purposes[name]; !ok {
		errs.add("purpose", "unknown purpose; declared: "+strings.Join(a.d.Policy.PurposeNames(), ", "))
	}
}

func (a *API) recordConsent(status string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var req consentChange
		body, ok := readStrictJSON(c, &req, 64<<10)
		if !ok {
			return
		}
		errs := validateStruct(req)
		a.checkPurpose(req.Purpose, errs)
		key := a.subjectKey(req.Subject, errs)
		now := a.d.Now().UTC()
		obtained := now
		if req.ObtainedAt != "" {
			if t, ok := checkChoiceTime("obtained_at", req.ObtainedAt, now, errs); ok {
				obtained = t
			}
		}
		if req.Notice != nil && !errs.has("notice") {
			n, err := a.d.Store.GetNotice(c.Request.Context(), req.Notice.ID, req.Notice.Version)
			switch {
			case errors.Is(err, store.ErrNotFound):
				errs.add("notice", "this notice version is not registered; register it first with POST /api/v1/notices")
			case err != nil:
				a.internalError(c, "read notice", err)
				return
			case n.EffectiveFrom.After(obtained):
				errs.add("notice", "this notice version was not yet in effect at obtained_at")
			}
		}
		if len(errs) > 0 {
			writeInvalidFields(c, errs)
			return
		}
		method := req.Method
		if method == "" {
			method = store.MethodAPI
		}
		sum := sha256.Sum256(body)
		e := store.ConsentEntry{
			ID: store.NewID(), SubjectKey: key, Purpose: req.Purpose, Status: status, Method: method,
			ObtainedAt: obtained, RecordedAt: now, PayloadSHA256: hex.EncodeToString(sum[:]),
			RequestID: httpapi.RequestID(c),
		}
		if req.Notice != nil {
			e.NoticeID, e.NoticeVersion = req.Notice.ID, req.Notice.Version
		}
		// The ledger is read per record with no cache, so once this append
		// commits every instance applies it to its very next record.
		if err := a.d.Store.AppendConsent(c.Request.Context(), []store.ConsentEntry{e}); err != nil {
			a.internalError(c, "append consent", err)
			return
		}
		delivery, ok := a.publish(c, "the statement is recorded and applies now", a.d.Pipeline.ConsentMessages([]store.ConsentEntry{e})...)
		if !ok {
			return
		}
		a.d.Log.Info("consent recorded", "status", status, "purpose", e.Purpose, "method", method, "entry_id", e.ID, "request_id", e.RequestID, "principal", PrincipalOf(c).Name)
		c.JSON(http.StatusCreated, gin.H{
			"entry":            a.entryView(e),
			"effective_status": a.effectiveStatus(e, now),
			"event":            gin.H{"id": e.ID, "topic": a.d.Pipeline.ConsentTopic(), "delivery": delivery},
		})
	}
}

// publish sends consent events; delivery is "published", "queued" (outbox)
// or "none" (no consent topic). On failure it answers 503 itself.
func (a *API) publish(c *gin.Context, done string, msgs ...kafka.Message) (delivery string, ok bool) {
	if len(msgs) == 0 {
		return "none", true
	}
	queued, err := a.d.Pipeline.PublishConsent(c.Request.Context(), msgs...)
	if err != nil {
		a.d.Log.Error("publish consent event", "err", err, "request_id", httpapi.RequestID(c))
		httpapi.WriteError(c, http.StatusServiceUnavailable, "unavailable",
			done+", but its event for the consent topic could neither be published nor queued; retry the request (a repeated statement changes nothing)")
		return "", false
	}
	if queued {
		return "queued", true
	}
	return "published", true
}

// entryView is a ledger entry with the expiry the policy gives it.
type entryView struct {
	store.ConsentEntry
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (a *API) entryView(e store.ConsentEntry) entryView {
	return entryView{ConsentEntry: e, ExpiresAt: pipeline.ExpiresAt(e, a.d.Policy.Purposes[e.Purpose].Validity)}
}

// effectiveStatus is what the filter makes of an entry now: a grant past
// its expiry counts as "expired" (absent until renewed).
func (a *API) effectiveStatus(e store.ConsentEntry, now time.Time) string {
	if exp := pipeline.ExpiresAt(e, a.d.Policy.Purposes[e.Purpose].Validity); exp != nil && !now.Before(*exp) {
		return pipeline.ConsentExpired
	}
	return e.Status
}

type currentView struct {
	Status          string         `json:"status"`
	EffectiveStatus string         `json:"effective_status"`
	EntryID         string         `json:"entry_id"`
	Method          string         `json:"method"`
	ObtainedAt      time.Time      `json:"obtained_at"`
	ExpiresAt       *time.Time     `json:"expires_at,omitempty"`
	Notice          *noticeRef     `json:"notice,omitempty"`
	Source          map[string]any `json:"source,omitempty"`
}

// subjectExport answers an access request: everything the ledger holds on
// one subject, with the state the filter applies now.
type subjectExport struct {
	SubjectKey    string                 `json:"subject_key"`
	ExportedAt    time.Time              `json:"exported_at"`
	PolicyVersion string                 `json:"policy_version"`
	Current       map[string]currentView `json:"current"`
	History       []entryView            `json:"history"`
}

func (a *API) lookupSubject(c *gin.Context) {
	var req subjectRequest
	if _, ok := readStrictJSON(c, &req, 64<<10); !ok {
		return
	}
	errs := validateStruct(req)
	key := a.subjectKey(req.Subject, errs)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	a.exportSubject(c, key)
}

func (a *API) getSubject(c *gin.Context) {
	key := c.Param("key")
	if !subject.IsKey(key) {
		writeInvalidFields(c, fieldErrors{"key": "must be a subject key: sk_ followed by 64 lower-case hex digits"})
		return
	}
	a.exportSubject(c, key)
}

func (a *API) exportSubject(c *gin.Context, key string) {
	hist, err := a.d.Store.ConsentHistory(c.Request.Context(), key)
	if err != nil {
		a.internalError(c, "read consent history", err)
		return
	}
	now := a.d.Now().UTC()
	out := subjectExport{
		SubjectKey: key, ExportedAt: now, PolicyVersion: a.d.Policy.Version,
		Current: map[string]currentView{}, History: make([]entryView, 0, len(hist)),
	}
	// History is ordered by time of choice, the same order CurrentConsent
	// ranks by, so the last entry of a purpose is its current one.
	for _, e := range hist {
		v := a.entryView(e)
		out.History = append(out.History, v)
		cv := currentView{
			Status: e.Status, EffectiveStatus: a.effectiveStatus(e, now), EntryID: e.ID, Method: e.Method,
			ObtainedAt: e.ObtainedAt.UTC(), ExpiresAt: v.ExpiresAt,
		}
		if e.NoticeID != "" {
			cv.Notice = &noticeRef{ID: e.NoticeID, Version: e.NoticeVersion}
		}
		if e.Connector != "" {
			cv.Source = map[string]any{"platform": e.Platform, "connector": e.Connector, "form": e.Form, "checkbox_key": e.CheckboxKey}
		}
		out.Current[e.Purpose] = cv
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) eraseSubject(c *gin.Context) {
	var req subjectRequest
	if _, ok := readStrictJSON(c, &req, 64<<10); !ok {
		return
	}
	errs := validateStruct(req)
	key := a.subjectKey(req.Subject, errs)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	// Deliveries of the subject under way on this instance end first, and
	// new ones wait until the erasure is done: what they publish precedes
	// the erasure's event instead of following it, and no statement is
	// written while the entries are deleted.
	open, err := a.d.Pipeline.EraseBarrier(c.Request.Context(), key)
	defer open()
	if err != nil {
		a.d.Log.Warn("erasure went ahead without waiting for all of the subject's deliveries under way", "err", err, "request_id", httpapi.RequestID(c))
	}
	now := a.d.Now().UTC()
	n, err := a.d.Store.EraseSubject(c.Request.Context(), key, now)
	if err != nil {
		a.internalError(c, "erase subject", err)
		return
	}
	var msgs []kafka.Message
	if a.d.Pipeline.ConsentTopic() != "" {
		msgs = append(msgs, a.d.Pipeline.ErasureMessage(key, n, now))
	}
	delivery, ok := a.publish(c, "the subject is erased", msgs...)
	if !ok {
		return
	}
	a.d.Log.Info("subject erased", "entries_removed", n, "request_id", httpapi.RequestID(c), "principal", PrincipalOf(c).Name)
	c.JSON(http.StatusOK, gin.H{
		"subject_key": key, "entries_removed": n, "erased_at": now,
		"event": gin.H{"topic": a.d.Pipeline.ConsentTopic(), "delivery": delivery},
	})
}

func (a *API) listTombstones(c *gin.Context) {
	limit, errs := queryLimit(c, 100, 1000)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	ts, err := a.d.Store.ListTombstones(c.Request.Context(), limit)
	if err != nil {
		a.internalError(c, "list tombstones", err)
		return
	}
	if ts == nil {
		ts = []store.Tombstone{}
	}
	c.JSON(http.StatusOK, gin.H{"tombstones": ts})
}

func (a *API) internalError(c *gin.Context, doing string, err error) {
	a.d.Log.Error(doing, "err", err, "request_id", httpapi.RequestID(c))
	httpapi.WriteError(c, http.StatusInternalServerError, "internal", "the gateway could not "+doing+"; see its log for this request id")
}

// fieldErrors maps a JSON path ("subject.email") to what is wrong with it.
// Messages name the rule, never the value sent.
type fieldErrors map[string]string

func (e fieldErrors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// has reports an error on field, or under it when field ends with ".".
func (e fieldErrors) has(field string) bool {
	for k := range e {
		if k == field || (strings.HasSuffix(field, ".") && strings.HasPrefix(k, field)) || strings.HasPrefix(k, field+".") {
			return true
		}
	}
	return false
}

func writeInvalidFields(c *gin.Context, errs fieldErrors) {
	names := make([]string, 0, len(errs))
	for k := range errs {
		names = append(names, k)
	}
	slices.Sort(names)
	c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": gin.H{
		"code": "invalid", "message": "invalid request: " + strings.Join(names, ", "),
		"fields": errs, "request_id": httpapi.RequestID(c),
	}})
}

// jsonContent answers 415 unless the request says its body is JSON: a
// form-encoded or text body would otherwise be read as JSON anyway, and a
// client sending the wrong type learns nothing from a 400 about syntax.
func jsonContent(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return true
	}
	if ct == "" && c.Request.ContentLength == 0 {
		return true // no body: the decoder reports what is missing
	}
	httpapi.WriteError(c, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
	return false
}

// atEOF reports whether nothing but white space follows the decoded value:
// dec.More is false before a stray '}' or ']' too.
func atEOF(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// readStrictJSON decodes one JSON object into dst, refusing unknown fields
// and trailing data; it answers the error itself and returns the raw body
// (for evidence hashes) on success.
func readStrictJSON(c *gin.Context, dst any, limit int64) ([]byte, bool) {
	if !jsonContent(c) {
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpapi.WriteError(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is over %d bytes", limit))
			return nil, false
		}
		httpapi.WriteError(c, http.StatusBadRequest, "malformed", "could not read the request body")
		return nil, false
	}
	if err := jsonstrict.Check(body); err != nil {
		httpapi.WriteError(c, http.StatusBadRequest, "malformed", err.Error())
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil && !atEOF(dec) {
		err = errors.New("trailing data")
	}
	if err == nil {
		return body, true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		writeInvalidFields(c, fieldErrors{typeErr.Field: "must be a JSON " + jsonstrict.Kind(typeErr.Type.Kind())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeInvalidFields(c, fieldErrors{name: "unknown field"})
	default:
		httpapi.WriteError(c, http.StatusBadRequest, "malformed", "the body must be one JSON object")
	}
	return nil, false
}

var requestValidator = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}()

// validateStruct runs the validate tags; errors are keyed by JSON path.
func validateStruct(s any) fieldErrors {
	errs := fieldErrors{}
	var ves validator.ValidationErrors
	if err := requestValidator.Struct(s); !errors.As(err, &ves) {
		return errs
	}
	for _, fe := range ves {
		path := fe.Namespace()
		if _, rest, ok := strings.Cut(path, "."); ok {
			path = rest // drop the struct's own name
		}
		var msg string
		switch fe.Tag() {
		case "required":
			msg = "is required"
		case "required_with":
			msg = "is required with " + strings.ToLower(fe.Param())
			if fe.Param() == "UserID" {
				msg = "is required with user_id"
			}
		case "max":
			msg = "must be at most " + fe.Param() + " characters"
		case "len":
			msg = "must be exactly " + fe.Param() + " characters"
		case "oneof":
			msg = "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
		case "url":
			msg = "must be an absolute URL"
		case "hexadecimal", "lowercase":
			msg = "must be lower-case hex"
		default:
			msg = "fails rule " + fe.Tag()
		}
		errs.add(path, msg)
	}
	return errs
}
