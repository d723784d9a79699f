-- A message Kafka refuses for good (unknown topic with auto-create off,
-- not authorized, too large) is parked instead of retried forever: it
-- stays here with the time and the reason, the relay's claim and the depth
-- gauge skip it, and an operator requeues it by clearing dead_at.
-- Retried, it held up every record queued behind it.

-- +goose Up
ALTER TABLE outbox ADD COLUMN dead_at INTEGER;
ALTER TABLE outbox ADD COLUMN dead_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_dead ON outbox (id) WHERE dead_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_dead;
ALTER TABLE outbox DROP COLUMN dead_reason;
ALTER TABLE outbox DROP COLUMN dead_at;
