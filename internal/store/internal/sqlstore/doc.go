// Package sqlstore implements store.Store once for both SQL backends. The
// sqlite and postgres packages supply a Dialect (time encoding, row locking,
// error translation) and their embedded migrations; everything else, and so
// every behaviour the contract suite checks, is shared here.
//
// Conventions both schemas follow: timestamps are kept at microsecond
// precision (timestamptz in PostgreSQL, INTEGER Unix microseconds in SQLite)
// and come back in UTC; JSON is stored as TEXT so it round-trips byte for
// byte; every write runs in a transaction on the write pool, and a
// transaction that failed because its connection was lost before COMMIT is
// run once more, so a database restart costs no request.
package sqlstore
