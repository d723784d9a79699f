-- A fetch job carries the evidence of the notification that announced it
-- (its request id and the SHA-256 of its body), so the consent statements
-- of the fetched lead point at the webhook in the gateway's log instead of
-- at the job.

-- +goose Up
ALTER TABLE fetch_jobs ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE fetch_jobs ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE fetch_jobs DROP COLUMN payload_sha256;
ALTER TABLE fetch_jobs DROP COLUMN request_id;
