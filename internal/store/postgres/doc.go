// Package postgres is the production store backend (sqlx + lib/pq).
//
// Several gateway instances share one database: event claims are single
// INSERT ... ON CONFLICT DO UPDATE ... WHERE statements, so exactly one
// concurrent claimer wins; outbox and fetch-job claims select rows FOR
// UPDATE SKIP LOCKED, so instances never wait for, nor take, each other's
// rows. Migrations run at Open under an advisory lock.
//
// Connection loss needs no restart: no connection is pinned, database/sql
// discards broken ones, and a transaction whose connection died before
// COMMIT is run again once on a fresh connection. Driver errors become
// store.ErrNotFound / store.ErrConflict; URLs in messages are redacted.
package postgres
