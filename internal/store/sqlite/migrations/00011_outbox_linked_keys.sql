-- A queued record keeps the subject keys of its other identifiers (its
-- phone beside the e-mail that keys it), so the relay's recheck applies a
-- refusal recorded under one of them while the record waited, as the
-- webhook path does.

-- +goose Up
ALTER TABLE outbox ADD COLUMN linked_keys TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN linked_keys;
