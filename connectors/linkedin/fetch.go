package linkedin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

const (
	maxResponseBytes = 8 << 20
	// defaultRetryAfter applies when a 429 carries no usable Retry-After.
	defaultRetryAfter = 60 * time.Second
	optionSeparator   = "; "
)

// leadDoc is the part of a /rest/leadFormResponses/{id} response we read.
type leadDoc struct {
	ID                      string         `json:"id"`
	Submitter               string         `json:"submitter"`
	LeadType                string         `json:"leadType"`
	VersionedLeadGenFormUrn string         `json:"versionedLeadGenFormUrn"`
	SubmittedAt             json.Number    `json:"submittedAt"`
	TestLead                bool           `json:"testLead"`
	Owner                   map[string]any `json:"owner"`
	AssociatedEntity        map[string]any `json:"associatedEntity"`
	LeadMetadata            map[string]any `json:"leadMetadata"`
	FormResponse            struct {
		Answers []struct {
			QuestionID    json.Number `json:"questionId"`
			AnswerDetails struct {
				Text *struct {
					Answer string `json:"answer"`
				} `json:"textQuestionAnswer"`
				MultipleChoice *struct {
					Options []json.Number `json:"options"`
				} `json:"multipleChoiceAnswer"`
			} `json:"answerDetails"`
		} `json:"answers"`
		ConsentResponses []struct {
			ConsentID json.Number `json:"consentId"`
			Accepted  *bool       `json:"accepted"`
		} `json:"consentResponses"`
	} `json:"formResponse"`
}

// Fetch pulls the lead behind a CREATED notification and the form version
// that labels its answers (cached: versions are immutable).
func (c *Connector) Fetch(ctx context.Context, job ingest.FetchJob) ([]ingest.Record, error) {
	id, ok := strings.CutPrefix(job.Ref, leadURNPrefix)
	if !ok || !validLeadURN(job.Ref) {
		return nil, fmt.Errorf("fetch linkedin lead: %w", ingest.Errorf(ingest.ErrPermanent, "job ref is not a urn:li:leadGenFormResponse URN"))
	}
	var lead leadDoc
	if err := c.getJSON(ctx, "/rest/leadFormResponses/"+restliEscape(id), "lead form response", &lead); err != nil {
		return nil, fmt.Errorf("fetch linkedin lead: %w", err)
	}
	formURN := lead.VersionedLeadGenFormUrn
	if formURN == "" {
		formURN = job.Form
	}
	ref, ok := parseFormURN(formURN)
	if !ok {
		return nil, fmt.Errorf("fetch linkedin lead: %w", ingest.Errorf(ingest.ErrPermanent, "versionedLeadGenFormUrn is not a versioned lead form URN"))
	}
	f, err := c.form(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetch linkedin lead form: %w", err)
	}
	rec, err := c.leadRecord(job, ref, lead, f)
	if err != nil {
		return nil, fmt.Errorf("fetch linkedin lead: %w", err)
	}
	return []ingest.Record{rec}, nil
}

func (c *Connector) leadRecord(job ingest.FetchJob, ref formRef, lead leadDoc, f *form) (ingest.Record, error) {
	fields := map[string]string{"leadGenFormResponse": job.Ref, "versionedLeadGenFormUrn": ref.URN}
	for k, v := range map[string]string{"id": lead.ID, "submitter": lead.Submitter, "leadType": lead.LeadType} {
		if v != "" {
			fields[k] = v
		}
	}
	flatten("owner", lead.Owner, 0, fields)
	flatten("associatedEntity", lead.AssociatedEntity, 0, fields)
	flatten("leadMetadata", lead.LeadMetadata, 0, fields)
	for k, v := range f.hidden {
		fields[k] = v
	}
	for _, a := range lead.FormResponse.Answers {
		qid := a.QuestionID.String()
		if qid == "" {
			continue
		}
		key, ok := f.keys[qid]
		if !ok {
			key = customQuestionKey(qid)
		}
		switch d := a.AnswerDetails; {
		case d.Text != nil:
			fields[key] = d.Text.Answer
		case d.MultipleChoice != nil:
			labels := make([]string, 0, len(d.MultipleChoice.Options))
			for _, o := range d.MultipleChoice.Options {
				if text, ok := f.options[qid][o.String()]; ok {
					labels = append(labels, text)
				} else {
					labels = append(labels, o.String())
				}
			}
			fields[key] = strings.Join(labels, optionSeparator)
		}
	}
	var boxes map[string]bool
	for _, cr := range lead.FormResponse.ConsentResponses {
		if cr.ConsentID.String() == "" || cr.Accepted == nil {
			continue // no answer is silence, never a denial
		}
		if boxes == nil {
			boxes = map[string]bool{}
		}
		boxes[cr.ConsentID.String()] = *cr.Accepted
	}
	rec := ingest.Record{
		EventID:    job.EventID,
		Kind:       ingest.KindLead,
		Type:       recordTypeLead,
		Form:       ref.URN,
		OccurredAt: job.OccurredAt,
		Fields:     fields,
		Checkboxes: boxes,
		Test:       lead.TestLead,
	}
	if s := lead.SubmittedAt.String(); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return ingest.Record{}, ingest.Errorf(ingest.ErrPermanent, "field submittedAt is not epoch milliseconds")
		}
		rec.OccurredAt = time.UnixMilli(ms).UTC()
	}
	return rec, nil
}

// form returns the compiled form version, reading it once per version.
func (c *Connector) form(ctx context.Context, ref formRef) (*form, error) {
	if f, ok := c.forms.get(ref.URN); ok {
		return f, nil
	}
	var doc leadFormDoc
	if err := c.getJSON(ctx, ref.path(c.cfg.FormPath), "lead form", &doc); err != nil {
		return nil, err
	}
	f := compileForm(doc, c.cfg.CustomQuestionKey)
	// /rest/leadForms/{id} may answer with a newer version than the lead
	// was submitted on; use it (question ids are stable across versions)
	// but cache it only under the version it really is.
	if v := doc.VersionID.String(); v == "" || v == ref.Version {
		c.forms.put(ref.URN, f)
	}
	return f, nil
}

// getJSON GETs base_url+path with LinkedIn's versioned-API headers and
// decodes a 200 answer into v. Errors follow the Fetcher contract: 429 →
// *ingest.RetryAfterError, other 4xx but 408 → ingest.ErrPermanent,
// 5xx/408/network → plain (retried).
func (c *Connector) getJSON(ctx context.Context, path, what string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return ingest.Errorf(ingest.ErrPermanent, "build %s request: %v", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.accessToken)
	req.Header.Set("LinkedIn-Version", c.cfg.APIVersion)
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
	case s == http.StatusTooManyRequests:
		return &ingest.RetryAfterError{
			After: retryAfter(resp.Header.Get("Retry-After"), c.now()),
			Err:   fmt.Errorf("get %s: LinkedIn answered 429 (throttled)", what),
		}
	case s == http.StatusRequestTimeout || s >= 500:
		return fmt.Errorf("get %s: LinkedIn answered %d", what, s)
	case s >= 400:
		// 401 expired token, 403 missing r_marketing_leadgen_automation or
		// page role, 404 lead gone, 426 sunset api_version: retrying won't help.
		return ingest.Errorf(ingest.ErrPermanent, "get %s: LinkedIn answered %d", what, s)
	default:
		return fmt.Errorf("get %s: unexpected status %d", what, s)
	}
	if len(body) > maxResponseBytes {
		return ingest.Errorf(ingest.ErrPermanent, "get %s: answer larger than %d bytes", what, maxResponseBytes)
	}
	if err := decodeStrict(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return ingest.Errorf(ingest.ErrPermanent, "decode %s: field %s has an unexpected type", what, typeErr.Field)
		}
		return fmt.Errorf("decode %s: answer is not valid JSON", what)
	}
	return nil
}

// retryAfter reads a Retry-After header (seconds or HTTP date).
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return defaultRetryAfter
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 1 {
			return time.Second
		}
		if secs > 24*3600 {
			secs = 24 * 3600
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > time.Second {
			return d
		}
		return time.Second
	}
	return defaultRetryAfter
}
