// Package sqlite is the zero-setup store backend: one SQLite file (pure Go
// driver modernc.org/sqlite), WAL mode, migrations embedded and applied at
// Open.
//
// Concurrency: all writes go through a single connection whose transactions
// begin IMMEDIATE, so writers of this process queue in database/sql rather
// than fail with SQLITE_BUSY; reads use a separate query-only pool and, in
// WAL mode, never wait for the writer. Another process writing the same file
// is waited for up to the busy timeout. Claims need no row locks here: the
// single writer makes every claim serial.
package sqlite
