package browser

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// TestSignIn: a wrong token is refused with a message, the right one shows
// the role, survives a reload of the tab, and signing out forgets it.
func TestSignIn(t *testing.T) {
	gw := startGateway(t, nil)
	b := newBrowser(t, gw)

	b.run("wrong token",
		chromedp.Navigate(gw.URL+"/console/"),
		chromedp.WaitVisible(byLabel("API token")),
		chromedp.SendKeys(byLabel("API token"), "not-a-token"),
		chromedp.Click(button("Sign in")),
	)
	if got := b.text("error shown", `//*[@role="alert"]`); !strings.Contains(got, "unknown or revoked") {
		t.Fatalf("error for a wrong token = %q, want it to say the token is unknown", got)
	}
	b.run("clear token", clearInput(byLabel("API token")))
	b.run("right token",
		chromedp.SendKeys(byLabel("API token"), adminToken),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`#who-role`)),
	)
	if got := b.text("role", `//*[@id="who-role"]`); got != "admin" {
		t.Fatalf("role shown = %q, want admin", got)
	}
	b.run("reload keeps the session", chromedp.Reload(), chromedp.WaitVisible(`//nav//a[text()="Connectors"]`))
	b.run("sign out",
		chromedp.Click(chromedp.CSS(`#sign-out`)),
		chromedp.WaitVisible(byLabel("API token")),
	)
	stored, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("consentgate.token") || ""`))
	gwtest.Must(t, err)
	if stored != "" {
		t.Fatal("the token is still in sessionStorage after signing out")
	}
}

// TestConnectorEditorAndDryRun is the marketer's path: create a generic
// connector with a field mapping, map a consent checkbox to a purpose, and
// dry-run a sample lead to see which field is removed and why.
func TestConnectorEditorAndDryRun(t *testing.T) {
	gw := startGateway(t, nil)
	requireRoute(t, gw, http.MethodPost, "/connectors")
	requireRoute(t, gw, http.MethodPost, "/connectors/x/dry-run")
	b := newBrowser(t, gw)
	b.signIn(adminToken)

	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("browser-test-secret-0123456789ab"))
	raw := func(i string) string { return `(//table[@id="mapping-table"]//input[@data-role="raw"])[` + i + `]` }
	canon := func(i string) string { return `(//table[@id="mapping-table"]//select)[` + i + `]` }
	b.run("new connector form",
		chromedp.Click(button("New connector")),
		chromedp.WaitVisible(byLabel("Connector id")),
		chromedp.SendKeys(byLabel("Connector id"), "web-form"),
		setSelect(byLabel("Platform"), "generic"),
		chromedp.SendKeys(byLabel("Display name"), "Web form"),
		chromedp.WaitVisible(byLabel("signing_secret")),
		chromedp.SendKeys(byLabel("signing_secret"), secret),
	)
	for i, m := range [][2]string{{"lead.email", "email"}, {"lead.first_name", "first_name"}, {"lead.city", "city"}} {
		n := string(rune('1' + i))
		b.run("mapping row "+m[0],
			chromedp.Click(button("Add field")),
			chromedp.SendKeys(raw(n), m[0]),
			setSelect(canon(n), m[1]),
		)
	}
	b.run("settings: the form's own event id",
		chromedp.Click(`//summary[starts-with(normalize-space(),"Advanced")]`),
		clearInput(byLabel("Platform settings (JSON)")),
		chromedp.SendKeys(byLabel("Platform settings (JSON)"), `{"event_id_path": "id", "occurred_at_path": "occurred_at"}`),
	)
	if got := b.text("category of city", `//table[@id="mapping-table"]//tr[3]/td[3]`); !strings.Contains(got, "location") {
		t.Fatalf("category shown for city = %q, want location", got)
	}
	b.run("create",
		chromedp.Click(button("Create connector")),
		chromedp.WaitVisible(`//h1[text()="Connector: Web form"]`),
	)
	url := b.value("webhook URL", byLabel("Webhook URL (callback URL)"))
	if !strings.HasSuffix(url, "/webhooks/web-form") {
		t.Fatalf("webhook URL shown = %q, want it to end in /webhooks/web-form", url)
	}

	b.run("map a checkbox",
		chromedp.Click(button("Add checkbox")),
		chromedp.SendKeys(`(//table[@id="consent-table"]//input[@data-role="key"])[1]`, "consent.newsletter"),
		setSelect(`(//table[@id="consent-table"]//select[@data-role="purpose"])[1]`, "marketing_email"),
		chromedp.Click(button("Save changes")),
		chromedp.WaitVisible(`//p[contains(@class,"notice") and starts-with(normalize-space(),"Saved")]`),
	)
	var got struct {
		Consent struct {
			Checkboxes []struct{ Key, Purpose string } `json:"checkboxes"`
		} `json:"consent"`
	}
	if st := api(gw, http.MethodGet, "/connectors/web-form", nil, &got); st != http.StatusOK {
		t.Fatalf("GET /connectors/web-form = %d", st)
	}
	if len(got.Consent.Checkboxes) != 1 || got.Consent.Checkboxes[0].Key != "consent.newsletter" || got.Consent.Checkboxes[0].Purpose != "marketing_email" {
		t.Fatalf("stored checkboxes = %+v, want consent.newsletter → marketing_email", got.Consent.Checkboxes)
	}

	// The generic sample ticks consent.newsletter: the e-mail is kept for
	// marketing e-mail, the city (location needs sales contact or analytics)
	// is removed, and unmapped fields never leave.
	b.run("dry run",
		chromedp.Click(button("Dry run")),
		chromedp.WaitVisible(chromedp.CSS(`#dry-payload`)),
		chromedp.Click(button("Run dry run")),
		chromedp.WaitVisible(`//table[contains(@class,"fields")]`),
	)
	row := func(field string) string {
		return `//table[contains(@class,"fields")]//tr[td/code[text()="` + field + `"]]`
	}
	b.run("city redacted", chromedp.WaitVisible(row("lead.city")+`//span[contains(@class,"act-redact")]`))
	b.run("email kept", chromedp.WaitVisible(row("lead.email")+`//span[contains(@class,"act-keep")]`))
	b.run("phone unmapped", chromedp.WaitVisible(row("lead.phone")+`//span[contains(@class,"act-drop")]`))
	if r := b.text("rule of city", row("lead.city")+`/td[5]`); r == "" {
		t.Fatal("no rule shown for the redacted city")
	}
	if p := b.text("purposes of email", row("lead.email")+`/td[6]`); !strings.Contains(p, "marketing_email") {
		t.Fatalf("purposes shown for the kept e-mail = %q, want marketing_email", p)
	}
	if status := b.text("announcement", `//*[@id="status"]`); !strings.Contains(status, "Dry run done") {
		t.Fatalf("live region says %q, want the dry-run summary", status)
	}
}

// TestConsentWithdrawalByEmail: a privacy officer looks a person up by
// e-mail and withdraws a granted purpose; the ledger then says withdrawn.
func TestConsentWithdrawalByEmail(t *testing.T) {
	gw := startGateway(t, nil)
	requireRoute(t, gw, http.MethodPost, "/consent/grant")
	requireRoute(t, gw, http.MethodPost, "/consent/lookup")
	subject := map[string]any{"email": "Ana.Muster@example.com"}
	if st := api(gw, http.MethodPost, "/consent/grant", map[string]any{"subject": subject, "purpose": "marketing_email"}, nil); st/100 != 2 {
		t.Fatalf("seed grant: status %d", st)
	}
	b := newBrowser(t, gw)
	b.signIn(adminToken)
	b.run("look up",
		chromedp.Click(`//nav//a[text()="Consent"]`),
		chromedp.WaitVisible(byLabel("E-mail address")),
		chromedp.SendKeys(byLabel("E-mail address"), " ana.muster@example.com "),
		chromedp.Click(button("Look up")),
		chromedp.WaitVisible(byAria("Withdraw marketing_email")),
	)
	b.run("withdraw",
		chromedp.Click(byAria("Withdraw marketing_email")),
		chromedp.WaitVisible(`//tr[td[1][text()="marketing_email"]]//span[contains(@class,"badge") and text()="withdrawn"]`),
	)
	var look struct {
		Current map[string]struct {
			Status          string `json:"status"`
			EffectiveStatus string `json:"effective_status"`
		} `json:"current"`
	}
	if st := api(gw, http.MethodPost, "/consent/lookup", map[string]any{"subject": subject}, &look); st != http.StatusOK {
		t.Fatalf("lookup: status %d", st)
	}
	if s := look.Current["marketing_email"].Status; s != "withdrawn" {
		t.Fatalf("ledger status of marketing_email = %q, want withdrawn", s)
	}
}

// TestAnnouncementsDoNotMoveThePage: the status line that announces results
// must not push the page down when a message appears (or up when it is
// cleared). Tests and people alike aim at a button and click where it was;
// a shift between aim and click lands on the neighbouring row's button.
func TestAnnouncementsDoNotMoveThePage(t *testing.T) {
	gw := startGateway(t, nil)
	b := newBrowser(t, gw)
	b.signIn(adminToken)
	// Synchronous layout reads around each change, so no timing is involved.
	tops, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		const s = document.getElementById("status"), main = document.getElementById("main");
		const top = () => main.getBoundingClientRect().top;
		s.textContent = ""; const empty = top();
		s.textContent = "Consent for marketing_email withdrawn"; const short = top();
		s.textContent = "Error: " + "the connector's settings name a field path that is not in the sample; ".repeat(8); const long = top();
		return [empty, short, long];
	})()`))
	gwtest.Must(t, err)
	if len(tops) != 3 || tops[0] != tops[1] || tops[0] != tops[2] {
		t.Fatalf("top of the page's content with no / a short / a long announcement = %v, want one position", tops)
	}
}
