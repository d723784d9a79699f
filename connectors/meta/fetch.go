package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// leadFields are the Lead fields requested: the defaults plus the
// disclaimer answers (not returned unless asked for) and the organic flag.
const leadFields = "id,created_time,ad_id,form_id,field_data,custom_disclaimer_responses,is_organic,platform"

// maxResponse bounds a Graph response body; a lead is a few KiB.
const maxResponse = 1 << 20

// Graph error codes that mean "throttled, try later": app (4), user (17),
// Page (32), app limit (341), custom (613) and business use case limits.
var rateLimitCodes = map[int]bool{
	4: true, 17: true, 32: true, 341: true, 613: true,
	80000: true, 80001: true, 80002: true, 80003: true, 80004: true,
	80005: true, 80006: true, 80008: true, 80009: true, 80014: true,
}

type graphLead struct {
	ID          idText          `json:"id"`
	CreatedTime string          `json:"created_time"`
	AdID        idText          `json:"ad_id"`
	FormID      idText          `json:"form_id"`
	IsOrganic   json.RawMessage `json:"is_organic"`
	Platform    string          `json:"platform"`
	FieldData   []struct {
		Name   string            `json:"name"`
		Values []json.RawMessage `json:"values"`
	} `json:"field_data"`
	CustomDisclaimerResponses []struct {
		CheckboxKey string          `json:"checkbox_key"`
		IsChecked   json.RawMessage `json:"is_checked"`
	} `json:"custom_disclaimer_responses"`
}

// graphErrorTypes are the error types Meta documents for the Graph API.
// An error answer is remote text that ends up in logs and in
// fetch_jobs.last_error (shown by GET /deadletters), so its type is named
// only when it is one of these, and its free-text message never.
var graphErrorTypes = map[string]bool{
	"OAuthException": true, "GraphMethodException": true, "FacebookApiException": true,
}

// fbtraceIDRe is the shape of the trace id Meta support asks for; a value
// of any other shape is not one and is left out for the same reason.
var fbtraceIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

type graphError struct {
	Error struct {
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient bool   `json:"is_transient"`
		FBTraceID   string `json:"fbtrace_id"`
	} `json:"error"`
}

// Fetch pulls one lead from the Graph API. Error messages name the lead id
// and Graph's error code, never the token or an answer.
func (c *Connector) Fetch(ctx context.Context, job ingest.FetchJob) ([]ingest.Record, error) {
	if !numericIDRe.MatchString(job.Ref) {
		return nil, fmt.Errorf("fetch meta lead: job ref is not a numeric leadgen_id: %w", ingest.ErrPermanent)
	}
	if c.pageToken == "" {
		return nil, fmt.Errorf("fetch meta lead %s: secret %q is not set, add secrets.%s {env: META_PAGE_ACCESS_TOKEN}: %w",
			job.Ref, secretPageToken, secretPageToken, ingest.ErrPermanent)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	q := url.Values{"fields": {leadFields}}
	if c.proof != "" {
		q.Set("appsecret_proof", c.proof)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/"+c.cfg.APIVersion+"/"+job.Ref+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch meta lead %s: build request: %w", job.Ref, ingest.ErrPermanent)
	}
	// A header, not access_token in the URL: URLs end up in error texts and logs.
	req.Header.Set("Authorization", "Bearer "+c.pageToken)
	req.Header.Set("Accept", "application/json")

	resp, err := c.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which carries appsecret_proof.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch meta lead %s: request failed: %w", job.Ref, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("fetch meta lead %s: read response: %w", job.Ref, err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("fetch meta lead %s: response is larger than %d bytes: %w", job.Ref, maxResponse, ingest.ErrPermanent)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.graphFailure(job.Ref, resp, body)
	}
	rec, err := c.leadRecord(job, body)
	if err != nil {
		return nil, fmt.Errorf("fetch meta lead %s: %w", job.Ref, err)
	}
	return []ingest.Record{rec}, nil
}

// graphFailure classifies a non-200 answer: throttling waits, outages and
// transient errors retry, anything else Graph refused is permanent.
func (c *Connector) graphFailure(ref string, resp *http.Response, body []byte) error {
	var ge graphError
	_ = json.Unmarshal(body, &ge) // a non-JSON error page classifies by status alone
	e := ge.Error
	desc := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if e.Code != 0 {
		desc += fmt.Sprintf(", graph error code %d", e.Code)
		if e.Subcode != 0 {
			desc += fmt.Sprintf(" subcode %d", e.Subcode)
		}
	}
	if graphErrorTypes[e.Type] {
		desc += " (" + e.Type + ")"
	}
	if fbtraceIDRe.MatchString(e.FBTraceID) {
		desc += ", fbtrace_id " + e.FBTraceID
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || rateLimitCodes[e.Code]:
		return &ingest.RetryAfterError{After: c.retryAfter(resp.Header), Err: fmt.Errorf("fetch meta lead %s: rate limited: %s", ref, desc)}
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, e.IsTransient, e.Code == 1, e.Code == 2:
		return fmt.Errorf("fetch meta lead %s: %s", ref, desc)
	case resp.StatusCode >= 400:
		return fmt.Errorf("fetch meta lead %s: %s: %w", ref, desc, ingest.ErrPermanent)
	default:
		return fmt.Errorf("fetch meta lead %s: unexpected %s", ref, desc)
	}
}

// retryAfter reads how long Graph asked us to wait: Retry-After, else the
// business-use-case header's estimated_time_to_regain_access (minutes),
// else the configured wait.
func (c *Connector) retryAfter(h http.Header) time.Duration {
	d := time.Duration(0)
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			d = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = t.Sub(c.now())
		}
	}
	if d <= 0 {
		var usage map[string][]struct {
			Minutes json.Number `json:"estimated_time_to_regain_access"`
		}
		if json.Unmarshal([]byte(h.Get("X-Business-Use-Case-Usage")), &usage) == nil {
			for _, list := range usage {
				for _, u := range list {
					if m, err := u.Minutes.Int64(); err == nil && time.Duration(m)*time.Minute > d {
						d = time.Duration(m) * time.Minute
					}
				}
			}
		}
	}
	if d <= 0 {
		d = c.cfg.RateLimitWait
	}
	return min(d, 24*time.Hour)
}

// leadRecord turns a Graph Lead into a record: answers by question name,
// disclaimer checkboxes as consent answers, metadata under "lead.".
func (c *Connector) leadRecord(job ingest.FetchJob, body []byte) (ingest.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var lead graphLead
	if err := dec.Decode(&lead); err != nil {
		return ingest.Record{}, fmt.Errorf("decode lead response: %w", decodeErr("lead response", err))
	}
	rec := ingest.Record{
		EventID:    job.EventID,
		Kind:       ingest.KindLead,
		Type:       "meta.leadgen",
		Form:       firstNonEmpty(string(lead.FormID), job.Form),
		OccurredAt: job.OccurredAt,
		Fields:     map[string]string{},
	}
	if rec.EventID == "" {
		rec.EventID = job.Ref
	}
	if t, ok := parseGraphTime(lead.CreatedTime); ok {
		rec.OccurredAt = t
	}
	for _, fd := range lead.FieldData {
		if fd.Name == "" {
			continue
		}
		var vals []string
		for _, raw := range fd.Values {
			if s, ok := scalarText(raw); ok && s != "" {
				vals = append(vals, s)
			}
		}
		if len(vals) == 0 {
			continue
		}
		joined := strings.Join(vals, ", ")
		if prev, ok := rec.Fields[fd.Name]; ok {
			joined = prev + ", " + joined
		}
		rec.Fields[fd.Name] = joined
	}
	for _, r := range lead.CustomDisclaimerResponses {
		if r.CheckboxKey == "" {
			continue
		}
		// An answer we cannot read stays silence, never a grant or denial.
		if checked, ok := parseChecked(r.IsChecked); ok {
			if rec.Checkboxes == nil {
				rec.Checkboxes = map[string]bool{}
			}
			rec.Checkboxes[r.CheckboxKey] = checked
		}
	}
	meta := map[string]string{"lead.ad_id": string(lead.AdID), "lead.form_id": rec.Form, "lead.platform": lead.Platform}
	if organic, ok := parseChecked(lead.IsOrganic); ok && len(lead.IsOrganic) > 0 && string(lead.IsOrganic) != "null" {
		meta["lead.is_organic"] = strconv.FormatBool(organic)
	}
	for k, v := range meta {
		if v != "" {
			rec.Fields[k] = v
		}
	}
	rec.Test = c.testForms[rec.Form]
	return rec, nil
}

// parseGraphTime reads Graph's "2015-02-28T08:49:14+0000" (no colon in
// the offset), and RFC 3339 in case that ever changes.
func parseGraphTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseChecked reads a disclaimer answer (or a Graph flag): "1", "true",
// true are yes; "", "0", "false", false and a missing value are no.
func parseChecked(raw json.RawMessage) (checked, ok bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return false, true
	}
	s, isScalar := scalarText(t)
	if !isScalar {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true, true
	case "", "0", "false", "no":
		return false, true
	}
	return false, false
}

// scalarText renders a JSON string, number or boolean as text.
func scalarText(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "", false
	}
	switch t[0] {
	case '"':
		var s string
		if json.Unmarshal(t, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	}
	return string(t), true
}
