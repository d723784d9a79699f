// Package backend opens the store named by a database URL
// (CONSENTGATE_DATABASE_URL): postgres:// or postgresql:// for PostgreSQL,
// sqlite:PATH, file:PATH or a bare path ending .db for SQLite. It is the one
// place that knows every backend; the rest of the gateway sees store.Store.
// Error messages never show a password.
package backend
