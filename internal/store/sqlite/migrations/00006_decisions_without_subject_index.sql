-- decisions loses its index on subject_key. Subject keys are keyed hashes,
-- so every audit line landed on a random page of that index and SQLite's
-- one writer wrote that page to the WAL (and the checkpointer copied it
-- back) for every record: about a fifth of the pages a request dirties.
-- Only erasure looked decisions up by subject, and it now finds them with
-- a scan on a reader connection, outside the write lock (sqlstore
-- EraseSubject, Dialect.EraseScansDecisions).

-- +goose Up
DROP INDEX decisions_subject_key;

-- +goose Down
CREATE INDEX decisions_subject_key ON decisions (subject_key) WHERE subject_key <> '';
