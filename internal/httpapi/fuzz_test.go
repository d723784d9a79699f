package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/kafka"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/policy"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/backend"
	"github.com/consentgate/consentgate/internal/subject"
)

const fuzzSecret = "fuzz-signing-secret"

// sink records what the pipeline hands to Kafka. It stands in for the
// topic, not for the broker's behaviour: the fuzz invariant is about what
// would be published.
type sink struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func (s *sink) Produce(_ context.Context, msgs ...kafka.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, msgs...)
	return nil
}

func (s *sink) take() []kafka.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.msgs
	s.msgs = nil
	return out
}

type policyView struct{ p *policy.Policy }

func (v policyView) HasPurpose(n string) bool { _, ok := v.p.Purposes[n]; return ok }
func (v policyView) PurposeNames() []string   { return v.p.PurposeNames() }
func (v policyView) HasField(f string) bool   { _, _, ok := v.p.Category(f); return ok }
func (v policyView) FieldNames() []string     { return v.p.Fields() }

type intake struct {
	handler http.Handler
	sink    *sink
	store   store.Store
	policy  *policy.Policy
	conn    *config.Connector
}

// newIntake is the real HTTP edge and pipeline on SQLite, with every
// jurisdiction opt-in (testdata/intake_policy.yaml), so a field in clear
// always needs an explicit, current grant.
func newIntake(t testing.TB) *intake {
	t.Helper()
	return newLoggedIntake(t, nil)
}

// newLoggedIntake is newIntake logging to log (nil: slog's default).
func newLoggedIntake(t testing.TB, log *slog.Logger) *intake {
	t.Helper()
	pol, err := policy.Load(filepath.Join("testdata", "intake_policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("fuzz-hash-key-0123456789abcdef-0123456789abcdef")
	eng, err := consent.New(pol, key)
	if err != nil {
		t.Fatal(err)
	}
	keyer, err := subject.NewKeyer(key)
	if err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile(filepath.Join("testdata", "intake_connector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gw := config.Default()
	conn, err := config.ParseConnector("intake_connector.yaml", yml, config.ConnectorOptions{
		Gateway: &gw, Policy: policyView{pol},
		Secret: func(_, _ string, _ config.SecretRef) (string, error) { return fuzzSecret, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := backend.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "fuzz.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sk := &sink{}
	p := pipeline.New(pipeline.Options{Store: st, Producer: sk, Engine: eng, Keyer: keyer, PolicyVersion: pol.Version, Log: log})
	p.SetConnectors([]*config.Connector{conn})
	srv := httpapi.New(httpapi.Options{Pipeline: p, MaxBodyBytes: 64 << 10, Log: log})
	return &intake{handler: srv.Handler(), sink: sk, store: st, policy: pol, conn: conn}
}

var hashed = regexp.MustCompile(`^h_[0-9a-f]{64}$`)

// check asserts that nothing in msgs carries a field its consent does not
// allow: every field is a mapped canonical field, explained by the
// receipt; a clear field has a purpose granted, unexpired and not blocked
// by GPC, in the subject's ledger; hashed and masked fields really are.
func (in *intake) check(msgs []kafka.Message) (problems []string) {
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	mapped := map[string]bool{}
	for _, canon := range in.conn.Mapping {
		mapped[canon] = true
	}
	now := time.Now()
	for _, m := range msgs {
		var v pipeline.Value
		if err := json.Unmarshal(m.Value, &v); err != nil {
			bad("produced a value that is not a record: %v", err)
			continue
		}
		if v.Type == "deletion" {
			continue
		}
		if v.Consent == nil {
			bad("record %s produced without a consent receipt", v.ID)
			continue
		}
		ledger, err := in.store.CurrentConsent(context.Background(), []string{v.Subject.Key})
		if err != nil {
			bad("read the ledger: %v", err)
			continue
		}
		kept := 0
		for f, val := range v.Fields {
			if !mapped[f] {
				bad("field %s is forwarded but the connector does not map it", f)
			}
			fr, ok := v.Consent.Fields[f]
			if !ok {
				bad("field %s is forwarded without a receipt entry", f)
				continue
			}
			switch fr.Action {
			case consent.ActionKeep:
				kept++
				// A platform test lead's checkboxes decide its own record
				// (on the test topic) without entering the ledger, so the
				// ledger cannot vouch for it.
				if !v.Test && !in.granted(f, ledger[v.Subject.Key], v.Consent.GPC, now) {
					bad("field %s is forwarded in clear without a current grant of any purpose of its category (receipt %+v)", f, fr)
				}
			case consent.ActionHash:
				if !hashed.MatchString(val) {
					bad("field %s marked hash is not a pseudonym", f)
				}
			case consent.ActionMask:
				if !strings.Contains(val, "***") {
					bad("field %s marked mask is not masked", f)
				}
			default:
				bad("field %s is forwarded with action %q", f, fr.Action)
			}
		}
		if kept == 0 {
			bad("record %s forwarded with no field kept in clear", v.ID)
		}
	}
	return problems
}

func (in *intake) granted(field string, ledger map[string]store.ConsentEntry, gpc bool, now time.Time) bool {
	_, cat, ok := in.policy.Category(field)
	if !ok {
		return false
	}
	for _, p := range cat.Purposes {
		e, ok := ledger[p]
		if !ok || e.Status != store.StatusGranted || (gpc && slices.Contains(consent.GPCPurposes, p)) {
			continue
		}
		if e.ExpiresAt != nil && !now.Before(*e.ExpiresAt) {
			continue
		}
		if v := in.policy.Purposes[p].Validity; v > 0 && !now.Before(e.ObtainedAt.Add(v)) {
			continue
		}
		return true
	}
	return false
}

func signFuzz(body []byte) string {
	m := hmac.New(sha256.New, []byte(fuzzSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// FuzzIntake drives the HTTP intake end to end — body, content type, GPC
// header, one free header, signed or not — and checks that no field is
// ever produced without the consent its policy demands, and that the
// server answers every input with a status (no panic, no 5xx).
func FuzzIntake(f *testing.F) {
	seeds := []string{
		`{"id":"s1","occurred_at":"2026-11-20T10:00:00Z","lead":{"email":"ana@example.com","first_name":"Ana","phone":"+49 151 23456789","country":"DE"},"consent":{"marketing_email":true,"sales_contact":false}}`,
		`{"id":"s2","lead":{"email":"bo@example.com","health":"asthma","interests":"running"},"consent":{"marketing_email":true,"health":true}}`,
		`{"id":"s3","lead":{"email":"cy@example.com","handle":"@cy","comment":"hi","do_not_sell":"yes"},"consent":{"profiling":true,"sales_contact":"yes"}}`,
		`{"id":"s4","lead":{"email":"dee@example.com","country":"US","region":"CA","city":"LA"},"consent":{}}`,
		`{"id":"s5","test":true,"lead":{"email":"t@example.com","birthday":"2000-01-01"},"consent":{"marketing_email":"1"}}`,
		`{"id":"s1","lead":{"email":"ana@example.com"},"consent":{"marketing_email":false}}`,
		`{"id":"s6","lead":{"email":"x@example.com","email":"y@example.com"}}`,
		`[1,2,3]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "application/json", "", "X-Forwarded-For", "10.0.0.1", true)
	}
	f.Add([]byte(`{"id":"s7","lead":{"email":"z@example.com"},"consent":{"marketing_email":true}}`), "application/json; charset=utf-8", "1", "Content-Length", "3", true)
	f.Add([]byte(`{"id":"s8"}`), "text/plain", "", "X-Signature", "sha256=00", false)

	in := newIntake(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType, gpc, hName, hValue string, signed bool) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/fuzz", bytes.NewReader(body))
		if hName != "" && validHeader(hName, hValue) {
			req.Header.Set(hName, hValue)
		}
		req.Header.Set("Content-Type", contentType)
		if gpc != "" && validHeader("Sec-GPC", gpc) {
			req.Header.Set("Sec-GPC", gpc)
		}
		if signed {
			req.Header.Set("X-Signature", signFuzz(body))
		}
		rec := httptest.NewRecorder()
		in.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		for _, p := range in.check(in.sink.take()) {
			t.Error(p)
		}
	})
}

// validHeader keeps inputs net/http itself would refuse to send.
func validHeader(name, value string) bool {
	if name == "" || len(name) > 64 || len(value) > 256 {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	for _, r := range value {
		if r < ' ' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// The oracle is worth something only if it sees records and catches a
// field that lacks consent: a seed goes through, then a tampered copy of
// what it produced must be flagged.
func TestIntakeOracleCatchesUnconsentedField(t *testing.T) {
	in := newIntake(t)
	body := []byte(`{"id":"o1","lead":{"email":"ana@example.com","first_name":"Ana","country":"DE"},"consent":{"marketing_email":true,"sales_contact":false}}`)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/fuzz", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signFuzz(body))
	rec := httptest.NewRecorder()
	in.handler.ServeHTTP(rec, req)
	msgs := in.sink.take()
	if rec.Code != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("status %d, %d records; want the seed forwarded", rec.Code, len(msgs))
	}
	if p := in.check(msgs); len(p) != 0 {
		t.Fatalf("the honest record is flagged: %v", p)
	}
	var v pipeline.Value
	if err := json.Unmarshal(msgs[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	v.Fields["country"] = "DE" // location needs sales_contact or analytics: denied
	v.Consent.Fields["country"] = pipeline.FieldReceipt{Action: consent.ActionKeep, Rule: "forged"}
	msgs[0].Value, _ = json.Marshal(v)
	if p := in.check(msgs); len(p) == 0 {
		t.Fatal("a clear field without consent went unnoticed by the fuzz oracle")
	}
}
