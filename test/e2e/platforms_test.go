package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
	"github.com/consentgate/consentgate/internal/testutil/pgtest"
)

// platformBody reads the body of a connector's documented-shape case file,
// so the end-to-end tests post exactly what the unit tests verify.
func platformBody(t *testing.T, platform, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(gwtest.RepoRoot(t), "connectors", platform, "testdata", file))
	gwtest.Must(t, err)
	var c struct {
		Request struct {
			Body json.RawMessage `json:"body"`
		} `json:"request"`
	}
	gwtest.Must(t, json.Unmarshal(raw, &c))
	return c.Request.Body
}

func hmacSum(key string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func postRaw(t *testing.T, u string, body []byte, h map[string]string) gwtest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	gwtest.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return gwtest.Do(t, req)
}

func get(t *testing.T, u string) gwtest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	gwtest.Must(t, err)
	return gwtest.Do(t, req)
}

func decodeValue(t *testing.T, b []byte) recordValue {
	t.Helper()
	var v recordValue
	gwtest.Must(t, json.Unmarshal(b, &v))
	return v
}

// Meta Lead Ads is notify-only: the handshake, then a signed leadgen
// notification (200 once the fetch job is stored), then the worker pulls
// the lead from a fake Graph API and forwards it with its checkboxes as
// consent.
func TestMetaLeadAdsEndToEnd(t *testing.T) {
	var calls atomic.Int32
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer page-token" {
			http.Error(w, `{"error":{"code":190}}`, http.StatusBadRequest)
			return
		}
		b, _ := os.ReadFile(filepath.Join(gwtest.RepoRoot(t), "connectors", "meta", "testdata", "graph", "lead_ok.json"))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer graph.Close()
	conn := metaConnector(t, graph.URL,
		`{key: marketing_optin, purpose: marketing_email, notice: {id: meta-form-notice, version: "1"}}`,
		`{key: partner_share, purpose: third_party_sharing}`)
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"meta.yaml": conn}})

	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"meta-verify-token"}, "hub.challenge": {"1158201444"}}
	if r := get(t, gw.URL+"/webhooks/meta-a?"+q.Encode()); r.Status != 200 || r.Raw != "1158201444" {
		t.Fatalf("handshake: %d %q", r.Status, r.Raw)
	}
	q.Set("hub.verify_token", "wrong")
	if r := get(t, gw.URL+"/webhooks/meta-a?"+q.Encode()); r.Status == 200 {
		t.Fatalf("handshake with a wrong verify token answered 200")
	}

	body := platformBody(t, "meta", "leadgen_single.json")
	sig := "sha256=" + hex.EncodeToString(hmacSum("meta-app-secret", body))
	if r := postRaw(t, gw.URL+"/webhooks/meta-a", body, map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)}); r.Status != 401 {
		t.Fatalf("bad signature: %d", r.Status)
	}
	r := postRaw(t, gw.URL+"/webhooks/meta-a", body, map[string]string{"X-Hub-Signature-256": sig})
	if r.Status != 200 || r.Summary("jobs") != 1 {
		t.Fatalf("notification: %d %s", r.Status, r.Raw)
	}
	m := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 1, 20*time.Second)[0]
	v := decodeValue(t, m.Value)
	if v.Fields["email"] != "zoe@example.com" || v.Fields["full_name"] != "Zoë Ångström" {
		t.Errorf("fields %v: e-mail and name must be kept (marketing_optin checked)", v.Fields)
	}
	if p := v.Fields["phone"]; p == "" || p == "+4915550100" {
		t.Errorf("phone %q: must be masked (no SMS or sales consent)", p)
	}
	if v.Source["event_id"] != "222222222222222" || v.Source["form"] != "333333333333333" {
		t.Errorf("source %v", v.Source)
	}
	if v.Consent.Purposes["marketing_email"].Status != "granted" || v.Consent.Purposes["third_party_sharing"].Status != "denied" {
		t.Errorf("receipt purposes %+v", v.Consent.Purposes)
	}
	if string(m.Key) != v.Subject["key"] {
		t.Errorf("key %q != subject %q", m.Key, v.Subject["key"])
	}
	// The fetched lead's statements carry the notification's evidence:
	// its request id in the gateway's log and the hash of its body.
	sum := sha256.Sum256(body)
	hist := gw.API("GET", "/consent/subjects/"+v.Subject["key"], nil)
	for _, want := range []string{`"request_id":"` + r.Str("request_id") + `"`, `"payload_sha256":"` + hex.EncodeToString(sum[:]) + `"`} {
		if r.Str("request_id") == "" || !strings.Contains(hist.Raw, want) {
			t.Errorf("ledger of the fetched lead lacks %s: %s", want, hist.Raw)
		}
	}
	// Meta retries the notification: no second fetch, no second record.
	r = postRaw(t, gw.URL+"/webhooks/meta-a", body, map[string]string{"X-Hub-Signature-256": sig})
	if r.Status != 200 {
		t.Fatalf("redelivery: %d", r.Status)
	}
	if all := kafkatest.ConsumeAll(t, gw.Brokers, "crm.leads.v1", 1500*time.Millisecond); len(all) != 1 {
		t.Errorf("%d records after a redelivered notification, want 1", len(all))
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Graph called %d times, want 1", n)
	}
}

// A fetch job survives a gateway restart, and a permanent API error
// dead-letters the job with its reason.
func TestFetchJobsSurviveRestartAndDeadLetter(t *testing.T) {
	var healthy atomic.Bool
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/999999999999999") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
			return
		}
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := os.ReadFile(filepath.Join(gwtest.RepoRoot(t), "connectors", "meta", "testdata", "graph", "lead_ok.json"))
		w.Write(b)
	}))
	defer graph.Close()
	t.Setenv("E2E_META_APP_SECRET", "meta-app-secret")
	t.Setenv("E2E_META_VERIFY", "v")
	t.Setenv("E2E_META_PAGE_TOKEN", "page-token")
	conn := `
id: meta-a
platform: meta
secrets:
  app_secret: {env: E2E_META_APP_SECRET}
  verify_token: {env: E2E_META_VERIFY}
  page_access_token: {env: E2E_META_PAGE_TOKEN}
settings: {base_url: "` + graph.URL + `"}
consent:
  checkboxes: [{key: marketing_optin, purpose: marketing_email}]
`
	db := pgtest.URL(t)
	brokers := kafkatest.Broker(t)
	fast := func(c *config.Gateway) {
		c.Jobs.BaseBackoff = 50 * time.Millisecond
		c.Jobs.MaxBackoff = 200 * time.Millisecond
		c.Jobs.MaxAttempts = 50
	}
	gw := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers, Connectors: map[string]string{"meta.yaml": conn}, Mutate: fast})

	good := platformBody(t, "meta", "leadgen_single.json")
	bad := bytes.ReplaceAll(good, []byte("222222222222222"), []byte("999999999999999"))
	for _, b := range [][]byte{good, bad} {
		sig := "sha256=" + hex.EncodeToString(hmacSum("meta-app-secret", b))
		if r := postRaw(t, gw.URL+"/webhooks/meta-a", b, map[string]string{"X-Hub-Signature-256": sig}); r.Status != 200 {
			t.Fatalf("notification: %d %s", r.Status, r.Raw)
		}
	}
	// The permanent failure is dead-lettered with a reason and no PII.
	deadline := time.Now().Add(15 * time.Second)
	var dead []store.Job
	for time.Now().Before(deadline) {
		var err error
		dead, err = gw.G.Store.ListJobs(t.Context(), store.JobDeadLetter, 10)
		gwtest.Must(t, err)
		if len(dead) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(dead) != 1 || dead[0].EventID != "999999999999999" || dead[0].LastError == "" {
		t.Fatalf("dead letters %+v, want the 999… lead with its reason", dead)
	}
	if strings.Contains(dead[0].LastError, "page-token") {
		t.Errorf("the dead-letter reason leaks the token")
	}
	// The backlog gauge counts it (refreshed after each round of jobs).
	var metrics string
	for time.Now().Before(deadline) {
		resp, err := gwtest.Client.Get(gw.URL + "/metrics")
		gwtest.Must(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if metrics = string(b); strings.Contains(metrics, `consentgate_fetch_jobs{measure="dead_letter"} 1`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(metrics, `consentgate_fetch_jobs{measure="dead_letter"} 1`) || !strings.Contains(metrics, `consentgate_fetch_jobs{measure="pending"} 1`) {
		t.Errorf("backlog gauges, want 1 dead-lettered and 1 pending:\n%s", grepLines(metrics, "consentgate_fetch_jobs{"))
	}
	// Stop while the good job is still failing; restart with the API back.
	gw.Stop()
	healthy.Store(true)
	gw2 := startGateway(t, gwtest.Options{DatabaseURL: db, Brokers: brokers, Connectors: map[string]string{"meta.yaml": conn}, Mutate: fast})
	v := decodeValue(t, kafkatest.Consume(t, gw2.Brokers, "crm.leads.v1", 1, 20*time.Second)[0].Value)
	if v.Source["event_id"] != "222222222222222" {
		t.Errorf("after restart got %v", v.Source)
	}
}

// LinkedIn: challenge, signed notification, fetch of lead and form from a
// fake REST API, consents by consentId; and a deletion event.
func TestLinkedInEndToEnd(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f string
		switch {
		case strings.HasPrefix(r.URL.Path, "/rest/leadFormResponses/"):
			f = "lead_with_consents.json"
		case strings.HasPrefix(r.URL.Path, "/rest/leadForms/"):
			f = "form_7234246_v1.json"
		default:
			http.NotFound(w, r)
			return
		}
		b, _ := os.ReadFile(filepath.Join(gwtest.RepoRoot(t), "connectors", "linkedin", "testdata", "api", f))
		// The documented sample was submitted in 2023: its consent would
		// have lapsed (marketing_email is valid for 730 days). Date it now.
		b = bytes.Replace(b, []byte("1689894599288"), []byte(strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)), 1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	defer api.Close()
	t.Setenv("E2E_LI_SECRET", "li-client-secret")
	t.Setenv("E2E_LI_TOKEN", "li-token")
	conn := `
id: li
platform: linkedin
default_jurisdiction: ES
secrets:
  client_secret: {env: E2E_LI_SECRET}
  access_token: {env: E2E_LI_TOKEN}
settings: {base_url: "` + api.URL + `"}
consent:
  checkboxes:
    - {key: "0", purpose: marketing_email}
    - {key: "1", purpose: marketing_sms}
`
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"li.yaml": conn}})
	r := get(t, gw.URL+"/webhooks/li?challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed5")
	want := hex.EncodeToString(hmacSum("li-client-secret", []byte("890e4665-4dfe-4ab1-b689-ed553bceeed5")))
	if r.Status != 200 || r.Body["challengeResponse"] != want {
		t.Fatalf("challenge: %d %s", r.Status, r.Raw)
	}
	notify := func(b []byte) gwtest.Response {
		sig := hex.EncodeToString(hmacSum("li-client-secret", []byte("hmacsha256="), b))
		return postRaw(t, gw.URL+"/webhooks/li", b, map[string]string{"X-LI-Signature": sig})
	}
	created := []byte(`{"type":"LEAD_ACTION","leadAction":"CREATED","leadGenFormResponse":"urn:li:leadGenFormResponse:249592fc-d272-44ba-a7db-c2bdce579507-6","leadGenForm":"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7234246,1)","owner":{"sponsoredAccount":"urn:li:sponsoredAccount:1234567"},"leadType":"SPONSORED","occurredAt":1689894599288}`)
	if r := notify(created); r.Status != 200 || r.Summary("jobs") != 1 {
		t.Fatalf("notification: %d %s", r.Status, r.Raw)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway logs:\n%s", gw.Logs())
		}
	})
	v := decodeValue(t, kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 1, 20*time.Second)[0].Value)
	if v.Fields["email"] != "zoe.garcia@example.com" || v.Fields["first_name"] != "Zoë" {
		t.Errorf("fields %v: consented e-mail and name must be kept", v.Fields)
	}
	if v.Consent.Purposes["marketing_email"].Status != "granted" || v.Consent.Purposes["marketing_sms"].Status != "denied" {
		t.Errorf("purposes %+v", v.Consent.Purposes)
	}
	deleted := bytes.Replace(created, []byte(`"CREATED"`), []byte(`"DELETED"`), 1)
	if r := notify(deleted); r.Status != 200 || r.Summary("forwarded") != 1 {
		t.Fatalf("deletion: %d %s", r.Status, r.Raw)
	}
	all := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 2, 10*time.Second)
	var del recordValue
	for _, m := range all {
		if d := decodeValue(t, m.Value); d.Type == "deletion" {
			del = d
		}
	}
	if del.Type != "deletion" || len(del.Fields) != 0 || del.Subject["key"] == "" {
		t.Errorf("deletion event %+v: want a deletion with a subject key and no data", del)
	}
}

// X: CRC, and a signed mention becomes an interaction keyed by the author.
func TestXEndToEnd(t *testing.T) {
	t.Setenv("E2E_X_SECRET", "x-consumer-secret")
	conn := `
id: x-brand
platform: x
default_jurisdiction: US-CA
secrets:
  consumer_secret: {env: E2E_X_SECRET}
`
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"x.yaml": conn}})
	r := get(t, gw.URL+"/webhooks/x-brand?crc_token=challenge123")
	want := "sha256=" + base64.StdEncoding.EncodeToString(hmacSum("x-consumer-secret", []byte("challenge123")))
	if r.Status != 200 || r.Body["response_token"] != want {
		t.Fatalf("CRC: %d %s", r.Status, r.Raw)
	}
	body := platformBody(t, "x", "tweet_mention.json")
	sig := "sha256=" + base64.StdEncoding.EncodeToString(hmacSum("x-consumer-secret", body))
	if r := postRaw(t, gw.URL+"/webhooks/x-brand", body, map[string]string{"X-Twitter-Webhooks-Signature": sig}); r.Status != 200 {
		t.Fatalf("delivery: %d %s", r.Status, r.Raw)
	}
	m := kafkatest.Consume(t, gw.Brokers, "crm.interactions.v1", 1, 15*time.Second)[0]
	v := decodeValue(t, m.Value)
	if v.Type != "interaction" || v.Fields["handle"] != "fan_anna" || !strings.Contains(v.Fields["comment_text"], "love it") {
		t.Errorf("interaction %+v (US-CA is opt-out: allowed until opted out)", v)
	}
	if v.Subject["key_source"] != "platform_user" {
		t.Errorf("interactions are keyed by the platform user, got %v", v.Subject)
	}
	if v.Fields["platform_user_id"] != "1661523610111193088" {
		t.Errorf("64-bit user id not exact: %q", v.Fields["platform_user_id"])
	}
	if _, err := strconv.ParseUint(v.Fields["platform_user_id"], 10, 64); err != nil {
		t.Errorf("user id: %v", err)
	}
}

// TikTok leads (t/s signature) and Google Ads leads (google_key in the
// body, never forwarded; test leads to the test topic).
func TestTikTokAndGoogleAdsEndToEnd(t *testing.T) {
	t.Setenv("E2E_TT_SECRET", "tt-secret")
	t.Setenv("E2E_GOOGLE_KEY", "google-key-123")
	tt := `
id: tt
platform: tiktok
default_jurisdiction: US-CA
secrets: {client_secret: {env: E2E_TT_SECRET}}
`
	ga := `
id: gads
platform: googleads
default_jurisdiction: US-CA
secrets: {google_key: {env: E2E_GOOGLE_KEY}}
`
	gw := startGateway(t, gwtest.Options{Connectors: map[string]string{"tt.yaml": tt, "ga.yaml": ga}})

	body := platformBody(t, "tiktok", "lead_single.json")
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := "t=" + ts + ",s=" + hex.EncodeToString(hmacSum("tt-secret", []byte(ts+"."), body))
	if r := postRaw(t, gw.URL+"/webhooks/tt", body, map[string]string{"TikTok-Signature": sig}); r.Status != 200 || r.Summary("forwarded") != 1 {
		t.Fatalf("tiktok: %d %s", r.Status, r.Raw)
	}
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	staleSig := "t=" + stale + ",s=" + hex.EncodeToString(hmacSum("tt-secret", []byte(stale+"."), body))
	if r := postRaw(t, gw.URL+"/webhooks/tt", body, map[string]string{"TikTok-Signature": staleSig}); r.Status != 401 {
		t.Errorf("stale tiktok signature: %d", r.Status)
	}

	// The documented sample is a German lead: its own country replaces the
	// connector's US-CA default, and without consent it is dropped whole.
	lead := bytes.ReplaceAll(platformBody(t, "googleads", "lead_single.json"), []byte("$GOOGLE_KEY"), []byte("google-key-123"))
	if r := postRaw(t, gw.URL+"/webhooks/gads", lead, nil); r.Status != 200 || r.Summary("dropped") != 1 {
		t.Fatalf("google DE lead without consent: %d %s", r.Status, r.Raw)
	}
	// The same lead from California is allowed until opted out.
	ca := bytes.Replace(lead, []byte(`"string_value": "DE"`), []byte(`"string_value": "US"}, {"column_id": "REGION", "string_value": "CA"`), 1)
	ca = bytes.Replace(ca, []byte("TeSt_0000-abcd"), []byte("TeSt_0000-ca"), 1)
	if r := postRaw(t, gw.URL+"/webhooks/gads", ca, nil); r.Status != 200 || r.Summary("forwarded") != 1 {
		t.Fatalf("google CA lead: %d %s", r.Status, r.Raw)
	}
	wrong := bytes.ReplaceAll(platformBody(t, "googleads", "lead_single.json"), []byte("$GOOGLE_KEY"), []byte("nope"))
	if r := postRaw(t, gw.URL+"/webhooks/gads", wrong, nil); r.Status != 401 {
		t.Errorf("wrong google_key: %d", r.Status)
	}
	test := bytes.ReplaceAll(platformBody(t, "googleads", "lead_test.json"), []byte("$GOOGLE_KEY"), []byte("google-key-123"))
	test = bytes.Replace(test, []byte(`"string_value": "DE"`), []byte(`"string_value": "US"}, {"column_id": "REGION", "string_value": "CA"`), 1)
	if r := postRaw(t, gw.URL+"/webhooks/gads", test, nil); r.Status != 200 {
		t.Fatalf("google test lead: %d %s", r.Status, r.Raw)
	}

	leads := kafkatest.Consume(t, gw.Brokers, "crm.leads.v1", 2, 15*time.Second)
	var sawTikTok, sawGoogle bool
	for _, m := range leads {
		if bytes.Contains(m.Value, []byte("google-key-123")) {
			t.Fatalf("google_key reached Kafka")
		}
		v := decodeValue(t, m.Value)
		switch v.Source["platform"] {
		case "tiktok":
			sawTikTok = v.Fields["email"] == "ada@example.com"
		case "googleads":
			sawGoogle = v.Fields["email"] == "ada@example.com" && v.Source["event_id"] == "TeSt_0000-ca"
		}
	}
	if !sawTikTok || !sawGoogle {
		t.Errorf("want a TikTok and a Google lead with e-mail on crm.leads.v1 (US-CA opt-out)")
	}
	testLeads := kafkatest.Consume(t, gw.Brokers, "crm.leads.test.v1", 1, 10*time.Second)
	if v := decodeValue(t, testLeads[0].Value); v.Source["event_id"] != "TeSt_Zm9vYmFy" {
		t.Errorf("test topic got %v", v.Source)
	}
	for _, m := range kafkatest.ConsumeAll(t, gw.Brokers, "crm.leads.v1", time.Second) {
		if bytes.Contains(m.Value, []byte("TeSt_Zm9vYmFy")) {
			t.Errorf("a platform test lead reached the production topic")
		}
	}
}

// metaConnector sets the Meta secrets' variables and returns the file of a
// Meta connector meta-a that fetches leads from graphURL, with the given
// consent checkboxes (YAML list items).
func metaConnector(t *testing.T, graphURL string, checkboxes ...string) string {
	t.Helper()
	t.Setenv("E2E_META_APP_SECRET", "meta-app-secret")
	t.Setenv("E2E_META_VERIFY", "meta-verify-token")
	t.Setenv("E2E_META_PAGE_TOKEN", "page-token")
	return `
id: meta-a
platform: meta
default_jurisdiction: DE
secrets:
  app_secret: {env: E2E_META_APP_SECRET}
  verify_token: {env: E2E_META_VERIFY}
  page_access_token: {env: E2E_META_PAGE_TOKEN}
settings:
  base_url: ` + graphURL + `
consent:
  checkboxes:
    - ` + strings.Join(checkboxes, "\n    - ") + `
`
}
