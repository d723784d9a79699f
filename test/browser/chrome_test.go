package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// testTimeout bounds each browser test, start-up included.
const testTimeout = 55 * time.Second

// stepTimeout bounds one step (an action and what it waits for).
const stepTimeout = 10 * time.Second

// chromiumPath finds Debian's chromium (CHROMIUM overrides).
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "SKIP: Chromium not found (apt-get install -y chromium, or set CHROMIUM=/path); the console's browser tests did not run"
	if os.Getenv("CI") != "" {
		t.Fatal(strings.Replace(msg, "SKIP: ", "", 1) + " — CI is set, so this is a failure")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium tab bound to the test's deadline.
type browser struct {
	t   testing.TB
	ctx context.Context
	gw  *gwtest.Gateway
}

// newBrowser starts a fresh Chromium (own profile) for one test. When the
// test fails, the page as it was is kept in test/artifacts/<test>.png.
func newBrowser(t *testing.T, gw *gwtest.Gateway) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900), // a laptop screen
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), testTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelBrowser()
		<-consoleDone // no logging after the test ends
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(bctx); err != nil {
		close(consoleDone)
		t.Fatalf("start chromium: %v", err)
	}
	// Confirmation dialogs (withdraw, discard, delete) are accepted, as the
	// person at the keyboard would; the dialog blocks the click that opened
	// it, so another goroutine answers.
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	// What the page logs (errors, exceptions, CSP reports) goes to the test
	// log, so a failure says why the page misbehaved.
	console := chromedp.Console(bctx)
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				t.Logf("browser %s: %s %s:%d", m.Type, m.Text, m.URL, m.Line)
			}
		}
	}()
	b := &browser{t: t, ctx: bctx, gw: gw}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot(filepath.Join(gwtest.RepoRoot(t), "test", "artifacts", safeName(t.Name())+".png"))
		}
	})
	return b
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func safeName(s string) string { return unsafe.ReplaceAllString(s, "_") }

// run performs actions and fails the test on error, naming the step.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	// A step times out well before the test, so the browser is still there
	// to take the failure screenshot.
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// screenshot writes the whole page as PNG (best effort; used on failure
// and for the docs).
func (b *browser) screenshot(path string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", path, err)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		if err := os.WriteFile(path, png, 0o644); err == nil {
			b.t.Logf("screenshot kept: %s", path)
		}
	}
}

// byLabel is an XPath to the control a <label> with exactly this text names,
// so tests find inputs the way a screen reader does.
func byLabel(text string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space()=%s]/@for]`, xq(text))
}

// byAria is an XPath to the element with this aria-label.
func byAria(text string) string { return fmt.Sprintf(`//*[@aria-label=%s]`, xq(text)) }

// button is an XPath to a button or link-button whose visible text starts with text.
func button(text string) string {
	return fmt.Sprintf(`//*[(self::button or self::a) and starts-with(normalize-space(), %s)]`, xq(text))
}

func xq(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// setSelect picks an option of a <select> and fires change like a user would.
func setSelect(xpath, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		js := fmt.Sprintf(`(() => {
			const el = document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
			if (!el) return "no element";
			if (![...el.options].some(o => o.value === %q)) return "no option";
			el.value = %q; el.dispatchEvent(new Event("change", {bubbles: true})); return "";
		})()`, xpath, value, value)
		res, err := chromedp.Evaluate[string](js)(ctx, t)
		if err != nil {
			return err
		}
		if res != "" {
			return fmt.Errorf("select %s = %q: %s", xpath, value, res)
		}
		return nil
	})
}

// clearInput empties a text input, as select-all and delete would.
func clearInput(xpath string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		js := fmt.Sprintf(`(() => {
			const el = document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
			if (!el) return "no element";
			el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); return "";
		})()`, xpath)
		res, err := chromedp.Evaluate[string](js)(ctx, t)
		if err == nil && res != "" {
			err = fmt.Errorf("clear %s: %s", xpath, res)
		}
		return err
	})
}

// signIn opens the console and signs in with the admin token.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.run("sign in",
		chromedp.Navigate(b.gw.URL+"/console/"),
		chromedp.WaitVisible(byLabel("API token")),
		chromedp.SendKeys(byLabel("API token"), token),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(chromedp.CSS(`#who-role`)),
	)
}

// value returns the value of the first matching input.
func (b *browser) value(step, xpath string) string {
	b.t.Helper()
	b.run(step, chromedp.WaitVisible(xpath))
	s, err := chromedp.Run(b.ctx, chromedp.Value(xpath))
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return s
}

// text returns the visible text of the first match.
func (b *browser) text(step, xpath string) string {
	b.t.Helper()
	b.run(step, chromedp.WaitVisible(xpath))
	s, err := chromedp.Run(b.ctx, chromedp.Text(xpath))
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return s
}
