// Package adminapi is the admin REST API under /api/v1: connectors,
// dry-run, dead letters, consent lifecycle, decisions and tokens, for
// marketers, privacy officers, auditors and admins.
//
// Every route is declared once in the routes table (routes.go) with the
// roles allowed to call it; docs/openapi.yaml lists the same routes and a
// test keeps the two in step. Authentication is a bearer token; a token's
// role decides what it may do. Secrets are write-only: no route returns
// one. Errors use the gateway's one JSON error shape.
package adminapi
