// Package console serves the web console at /console/: a single page of
// plain HTML, CSS and JavaScript modules embedded in the binary, so it works
// offline and needs no build step or CDN.
//
// Contract: the console is only a client of the admin API (/api/v1). It
// holds no server-side state and no secrets; the bearer token a person signs
// in with stays in the browser's sessionStorage and is sent as
// `Authorization: Bearer` on every API call. Everything it shows comes from
// the API, so roles are enforced there, not here — the console merely hides
// what a role may not use.
//
// Responses carry a strict Content-Security-Policy (scripts, styles and
// connections from the same origin only; no inline script), so data shown
// by the console can never run as code even if a bug rendered it as HTML.
package console
