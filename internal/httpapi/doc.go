// Package httpapi is the HTTP edge: gin handlers that turn requests into
// framework-free pipeline calls and outcomes back into JSON answers.
//
// Status precedence on intake (DESIGN.md §10): 404 unknown or disabled
// connector → 429 connector rate limit → 413 body over the limit → 401
// authentication → 400 malformed → 200 (503 with Retry-After when the
// gateway is at its in-flight limit or nothing could keep the delivery). Every error body is JSON: {"error": {"code", "message",
// "request_id"}}. The request id is always the gateway's own: a client's
// X-Request-ID is ignored, since the id reaches logs, decisions and the
// consent ledger. Access logs carry method, route, status, latency,
// connector id (only of a configured connector, else "unknown": the path
// is the sender's text) and request id — never query strings (handshakes
// carry verify tokens there) and never bodies.
package httpapi
