// Package ingesttest runs a connector against real-shaped delivery cases
// kept as files in its testdata/ directory, one case per file:
//
//	{
//	  "name": "single lead",
//	  "sign": "valid",                    // valid | bad | none | stale | <connector-defined>
//	  "request": {"method": "POST", "headers": {...}, "query": {...},
//	              "body": {...} | "body_text": "raw text"},
//	  "want": {"status": 200, "records": [...], "jobs": [...], "ignored": 0,
//	           "rejected": [{"index": 1, "reason": "the exact reason"}, ...],
//	           "error": "substring of the error message",
//	           "error_excludes": ["text the error must not contain", ...],
//	           "handshake": {"status": 200, "content_type": "...", "body": "..."}}
//	}
//
// Signatures are never stored in the files: the connector's test supplies
// a Signer that computes them at test time from a fixed secret and clock.
package ingesttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

// Case is one delivery and what the connector must make of it.
type Case struct {
	Name    string          `json:"name"`
	Sign    string          `json:"sign"`
	Request CaseRequest     `json:"request"`
	Want    Want            `json:"want"`
	Extra   json.RawMessage `json:"extra,omitempty"` // connector-specific knobs
	File    string          `json:"-"`
}

type CaseRequest struct {
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
	Query    map[string]string `json:"query"`
	Body     json.RawMessage   `json:"body"`
	BodyText *string           `json:"body_text"`
}

type Want struct {
	Status  int          `json:"status"`
	Records []WantRecord `json:"records"`
	Jobs    []WantJob    `json:"jobs"`
	Ignored int          `json:"ignored"`
	// Rejected are the items refused on their own while the rest of the
	// delivery is processed; reasons are compared exactly.
	Rejected []WantRejection `json:"rejected"`
	Error    string          `json:"error"`
	// ErrorExcludes are texts the error and every rejection reason must not
	// contain: payload content (a marker planted in a key or value) that
	// would leak personal data into the 400 body, the summary or the log.
	ErrorExcludes []string `json:"error_excludes"`
	Handshake     *struct {
		Status      int    `json:"status"`
		ContentType string `json:"content_type"`
		Body        string `json:"body"`
	} `json:"handshake"`
}

// WantRecord is compared field by field against ingest.Record.
type WantRecord struct {
	EventID    string            `json:"event_id"`
	Kind       string            `json:"kind"`
	Type       string            `json:"type"`
	Form       string            `json:"form,omitempty"`
	OccurredAt string            `json:"occurred_at,omitempty"` // RFC 3339, UTC
	Fields     map[string]string `json:"fields,omitempty"`
	Checkboxes map[string]bool   `json:"checkboxes,omitempty"`
	GPC        bool              `json:"gpc,omitempty"`
	Test       bool              `json:"test,omitempty"`
}

type WantRejection struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

type WantJob struct {
	EventID    string `json:"event_id"`
	Ref        string `json:"ref"`
	Form       string `json:"form,omitempty"`
	OccurredAt string `json:"occurred_at,omitempty"`
}

// Signer adds (or spoils) authentication on req according to mode.
type Signer func(t *testing.T, mode string, req *ingest.Request, c Case)

// Load reads every *.json case under dir.
func Load(t *testing.T, dir string) []Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatalf("list cases in %s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in %s", dir)
	}
	sort.Strings(files)
	cases := make([]Case, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read case %s: %v", f, err)
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("decode case %s: %v", f, err)
		}
		c.File = filepath.Base(f)
		if c.Name == "" {
			c.Name = strings.TrimSuffix(c.File, ".json")
		}
		cases = append(cases, c)
	}
	return cases
}

// BuildRequest turns a case into a request received at now.
func BuildRequest(c Case, now time.Time) *ingest.Request {
	req := &ingest.Request{
		Method:     c.Request.Method,
		Header:     http.Header{},
		Query:      url.Values{},
		ReceivedAt: now,
		RequestID:  "test-" + c.File,
	}
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	for k, v := range c.Request.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range c.Request.Query {
		req.Query.Set(k, v)
	}
	switch {
	case c.Request.BodyText != nil:
		req.Body = []byte(*c.Request.BodyText)
	case len(c.Request.Body) > 0:
		req.Body = []byte(c.Request.Body)
	}
	return req
}

// Run runs every case in dir against conn.
func Run(t *testing.T, dir string, conn ingest.Connector, sign Signer, now time.Time) {
	t.Helper()
	for _, c := range Load(t, dir) {
		t.Run(c.Name, func(t *testing.T) {
			req := BuildRequest(c, now)
			if sign != nil {
				sign(t, c.Sign, req, c)
			}
			Check(t, c, conn, req)
		})
	}
}

// Check runs one prepared request through conn and compares with c.Want.
func Check(t *testing.T, c Case, conn ingest.Connector, req *ingest.Request) {
	t.Helper()
	if req.Method == http.MethodGet {
		h, ok := conn.(ingest.Handshaker)
		if !ok {
			t.Fatalf("%s: GET case but connector has no handshake", c.File)
		}
		resp, err := h.Handshake(req)
		status := resp.Status
		if err != nil {
			status = ingest.StatusOf(err)
		}
		checkErr(t, c, status, err)
		if c.Want.Handshake != nil && err == nil {
			hs := c.Want.Handshake
			if hs.Status != 0 && hs.Status != resp.Status {
				t.Errorf("handshake status = %d, want %d", resp.Status, hs.Status)
			}
			if hs.ContentType != "" && !strings.HasPrefix(resp.ContentType, hs.ContentType) {
				t.Errorf("handshake content type = %q, want %q", resp.ContentType, hs.ContentType)
			}
			if hs.Body != string(resp.Body) {
				t.Errorf("handshake body = %q, want %q", resp.Body, hs.Body)
			}
		}
		return
	}
	err := conn.Verify(req)
	var b ingest.Batch
	if err == nil {
		b, err = conn.Parse(req)
	}
	checkErr(t, c, ingest.StatusOf(err), err)
	if err != nil {
		return
	}
	got := make([]WantRecord, 0, len(b.Records))
	for _, r := range b.Records {
		got = append(got, FromRecord(r))
	}
	want := c.Want.Records
	if want == nil {
		want = []WantRecord{}
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("records differ\n got: %s\nwant: %s", g, w)
	}
	gotJobs := make([]WantJob, 0, len(b.Jobs))
	for _, j := range b.Jobs {
		gotJobs = append(gotJobs, WantJob{EventID: j.EventID, Ref: j.Ref, Form: j.Form, OccurredAt: fmtTime(j.OccurredAt)})
	}
	wantJobs := c.Want.Jobs
	if wantJobs == nil {
		wantJobs = []WantJob{}
	}
	if !reflect.DeepEqual(gotJobs, wantJobs) {
		t.Errorf("jobs differ\n got: %+v\nwant: %+v", gotJobs, wantJobs)
	}
	if b.Ignored != c.Want.Ignored {
		t.Errorf("ignored = %d, want %d", b.Ignored, c.Want.Ignored)
	}
	gotRej := make([]WantRejection, 0, len(b.Rejected))
	for _, r := range b.Rejected {
		gotRej = append(gotRej, WantRejection{Index: r.Index, Reason: r.Reason})
		for _, x := range c.Want.ErrorExcludes {
			if strings.Contains(r.Reason, x) {
				t.Errorf("rejection reason %q contains %q (payload content)", r.Reason, x)
			}
		}
	}
	wantRej := c.Want.Rejected
	if wantRej == nil {
		wantRej = []WantRejection{}
	}
	if !reflect.DeepEqual(gotRej, wantRej) {
		t.Errorf("rejections differ\n got: %+v\nwant: %+v", gotRej, wantRej)
	}
}

func checkErr(t *testing.T, c Case, status int, err error) {
	t.Helper()
	want := c.Want.Status
	if want == 0 {
		want = http.StatusOK
	}
	if status != want {
		t.Fatalf("status = %d (err: %v), want %d", status, err, want)
	}
	if c.Want.Error != "" && (err == nil || !strings.Contains(err.Error(), c.Want.Error)) {
		t.Fatalf("error = %v, want it to contain %q", err, c.Want.Error)
	}
	for _, x := range c.Want.ErrorExcludes {
		if err != nil && strings.Contains(err.Error(), x) {
			t.Fatalf("error = %v, want it not to contain %q (payload content)", err, x)
		}
	}
	if err != nil && errors.Is(err, ingest.ErrUnauthenticated) == false && status == http.StatusUnauthorized {
		t.Fatalf("401 without ErrUnauthenticated: %v", err)
	}
}

// FromRecord renders a record in the case-file form.
func FromRecord(r ingest.Record) WantRecord {
	w := WantRecord{
		EventID: r.EventID, Kind: string(r.Kind), Type: r.Type, Form: r.Form,
		OccurredAt: fmtTime(r.OccurredAt), GPC: r.GPC, Test: r.Test,
	}
	if len(r.Fields) > 0 {
		w.Fields = r.Fields
	}
	if len(r.Checkboxes) > 0 {
		w.Checkboxes = r.Checkboxes
	}
	return w
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
