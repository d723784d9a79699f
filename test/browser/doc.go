// Package browser holds the console's browser tests: a real headless
// Chromium (Debian's chromium, driven with chromedp) against an in-process
// gateway on a real Kafka-protocol broker (kfake) and a real SQLite store.
//
// Without Chromium the tests skip loudly; with CI set they fail instead.
// A failing test leaves a screenshot in test/artifacts/. Set
// CONSOLE_SCREENSHOTS=docs/img to (re)write the screenshots of
// docs/console.md.
package browser
