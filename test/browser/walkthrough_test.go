package browser

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

const (
	metaAppSecret = "walkthrough-app-secret"
	metaLeadID    = "222222222222222"
	metaFormID    = "333333333333333"
)

// fakeGraph answers lead fetches the way Meta's Graph API does, for the
// one test lead of the walkthrough.
func fakeGraph(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/"+metaLeadID) || r.Header.Get("Authorization") == "" {
			http.Error(w, `{"error":{"message":"unknown path","type":"GraphMethodException","code":100}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"created_time":"2026-11-20T10:29:50+0000","ad_id":"444444444444444","form_id":%q,"is_organic":false,"platform":"fb",
"field_data":[{"name":"full_name","values":["Zoë Ångström"]},{"name":"email","values":["zoe@example.com"]},
{"name":"phone_number","values":["+4915550100"]},{"name":"city","values":["München"]},{"name":"zip_code","values":["80331"]}],
"custom_disclaimer_responses":[{"checkbox_key":"marketing_optin","is_checked":"1"},{"checkbox_key":"partner_share","is_checked":""}]}`, metaLeadID, metaFormID)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// routeGraphTo makes this process's default HTTP transport send requests
// for graph.facebook.com to the fake at base, until the test ends.
func routeGraphTo(t *testing.T, base string) {
	t.Helper()
	to, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	orig := http.DefaultTransport
	http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "graph.facebook.com" {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host, r.Host = to.Scheme, to.Host, to.Host
		}
		return orig.RoundTrip(r)
	})
	t.Cleanup(func() { http.DefaultTransport = orig })
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestMetaWalkthrough is docs/console.md: a marketer sets up a Meta lead
// ads connector, checks it with a dry run, and finds the test lead Meta
// sends in the decision log. With CONSOLE_SCREENSHOTS=docs/img it also
// (re)writes the screenshots of that page.
func TestMetaWalkthrough(t *testing.T) {
	graph := fakeGraph(t)
	// settings.base_url can be set only in connector files, so the
	// connector made in the console calls the real Graph host; this
	// process's transport sends that host to the fake instead.
	routeGraphTo(t, graph.URL)
	gw := startGateway(t, nil)
	requireRoute(t, gw, http.MethodPost, "/connectors")
	requireRoute(t, gw, http.MethodGet, "/decisions")
	b := newBrowser(t, gw)
	shot := func(name string) {
		if dir := os.Getenv("CONSOLE_SCREENSHOTS"); dir != "" {
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(gwtest.RepoRoot(t), dir)
			}
			b.screenshot(filepath.Join(dir, name))
		}
	}

	b.run("open the console",
		chromedp.Navigate(gw.URL+"/console/"),
		chromedp.WaitVisible(byLabel("API token")),
		chromedp.SendKeys(byLabel("API token"), adminToken),
	)
	shot("console-sign-in.png")
	b.run("sign in",
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(button("New connector")),
		chromedp.Click(button("New connector")),
		chromedp.WaitVisible(byLabel("Connector id")),
	)
	b.run("basics and secrets",
		chromedp.SendKeys(byLabel("Connector id"), "meta-brand-a"),
		setSelect(byLabel("Platform"), "meta"),
		chromedp.SendKeys(byLabel("Display name"), "Brand A lead ads"),
		chromedp.WaitVisible(byLabel("app_secret")),
		chromedp.SendKeys(byLabel("app_secret"), metaAppSecret),
		chromedp.SendKeys(byLabel("verify_token"), "brand-a-verify-7Qx2"),
		chromedp.SendKeys(byLabel("page_access_token"), "walkthrough-page-token"),
	)
	b.run("consent checkbox",
		chromedp.Click(button("Add checkbox")),
		chromedp.SendKeys(`(//table[@id="consent-table"]//input[@data-role="key"])[1]`, "marketing_optin"),
		setSelect(`(//table[@id="consent-table"]//select[@data-role="purpose"])[1]`, "marketing_email"),
		chromedp.SendKeys(`(//table[@id="consent-table"]//input[@data-role="notice-id"])[1]`, "privacy-notice"),
		chromedp.SendKeys(`(//table[@id="consent-table"]//input[@data-role="notice-version"])[1]`, "2026-03"),
	)
	shot("console-new-connector.png")
	// Leads of the testing tool's form are test traffic.
	b.run("advanced settings",
		chromedp.Click(`//summary[starts-with(normalize-space(),"Advanced")]`),
		clearInput(byLabel("Platform settings (JSON)")),
		chromedp.SendKeys(byLabel("Platform settings (JSON)"), fmt.Sprintf(`{"test_form_ids": [%q]}`, metaFormID)),
		chromedp.Click(button("Create connector")),
		chromedp.WaitVisible(`//h1[text()="Connector: Brand A lead ads"]`),
	)
	url := b.value("webhook URL", byLabel("Webhook URL (callback URL)"))
	if !strings.HasSuffix(url, "/webhooks/meta-brand-a") {
		t.Fatalf("webhook URL = %q", url)
	}
	if got := b.text("verify token hint", `//dt[text()="Verify token"]/following-sibling::dd[1]`); !strings.Contains(got, "verify_token") {
		t.Fatalf("verify token instruction = %q, want it to name the secret verify_token", got)
	}
	if got := b.text("standard field", `//table[caption[starts-with(normalize-space(),"Standard fields")]]//tr[td/code[text()="phone_number"]]/td[2]`); got != "phone" {
		t.Fatalf("standard mapping of phone_number = %q, want phone", got)
	}
	shot("console-connect.png")

	b.run("dry run the notification",
		chromedp.Click(button("Dry run")),
		chromedp.WaitVisible(chromedp.CSS(`#dry-payload`)),
		chromedp.Click(button("Run dry run")),
		chromedp.WaitVisible(`//p[contains(@class,"notice") and contains(.,"announces 1 lead")]`),
	)
	shot("console-dry-run-notification.png")
	b.run("dry run a comment",
		chromedp.Click(button("Load sample: Instagram comment")),
		chromedp.Click(button("Run dry run")),
		chromedp.WaitVisible(`//table[contains(@class,"fields")]//tr[td/code[text()="text"]]//span[contains(@class,"act-redact")]`),
		chromedp.WaitVisible(`//table[contains(@class,"fields")]//tr[td/code[text()="from.username"]]//span[contains(@class,"act-hash")]`),
	)
	shot("console-dry-run-comment.png")

	// Meta's Lead Ads Testing Tool now sends a real notification; the
	// gateway fetches the lead and decides.
	notification := fmt.Sprintf(`{"object":"page","entry":[{"id":"111111111111111","time":%d,"changes":[{"field":"leadgen","value":{"leadgen_id":%q,"page_id":"111111111111111","form_id":%q,"ad_id":"444444444444444","created_time":%d}}]}]}`,
		time.Now().Unix(), metaLeadID, metaFormID, time.Now().Unix())
	postMeta(t, url, notification)
	waitDecision(t, gw, "meta-brand-a")
	b.run("decision log",
		chromedp.Click(`//nav//a[text()="Decisions"]`),
		chromedp.WaitVisible(`//table//tr[td/code[text()="`+metaLeadID+`"]]`),
		chromedp.Click(`//table//tr[td/code[text()="`+metaLeadID+`"]]//summary`),
		chromedp.WaitVisible(`//table//tr[td/code[text()="`+metaLeadID+`"]]//li[code[text()="email"]]/span[contains(@class,"act-keep")]`),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart rect`)),
	)
	if got := b.text("outcome", `//table//tr[td/code[text()="`+metaLeadID+`"]]/td[4]`); got != "test" {
		t.Fatalf("outcome of the testing tool's lead = %q, want test (its form is a test form)", got)
	}
	shot("console-decisions.png")
}

// postMeta delivers a notification signed with the app secret, as Meta does.
func postMeta(t *testing.T, url, body string) {
	t.Helper()
	m := hmac.New(sha256.New, []byte(metaAppSecret))
	m.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	gwtest.Must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	gwtest.Must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d, want 200", resp.StatusCode)
	}
}

// waitDecision polls the decision log until the connector has one.
func waitDecision(t *testing.T, gw *gwtest.Gateway, connector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		var got struct {
			Decisions []struct{ Outcome string } `json:"decisions"`
		}
		api(gw, http.MethodGet, "/decisions?connector="+connector, nil, &got)
		if len(got.Decisions) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no decision for %s within 20s; gateway log:\n%s", connector, gw.Logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
