// Package generic is the connector for any sender that can POST signed JSON:
// in-house forms, form builders, CDPs, anything speaking Standard Webhooks or
// a Stripe-style or plain HMAC signature.
//
// # Authentication (Verify)
//
// One secret, "signing_secret" (Secrets), keys HMAC-SHA256 in every scheme
// (settings.signature.scheme):
//
//   - standard_webhooks (default), Standard Webhooks v1: headers webhook-id,
//     webhook-timestamp (unix seconds) and webhook-signature, a space-separated
//     list of "v1,<base64>" entries of which any may match (key rotation;
//     "v1a" ed25519 entries are skipped). Signed content:
//     "<webhook-id>.<webhook-timestamp>.<body>". The secret is "whsec_<base64>"
//     (prefix optional); the decoded bytes are the key.
//   - hmac: one header (default X-Signature), hex (default) or base64, with an
//     optional prefix such as "sha256=". Signed content: the body, or
//     "<timestamp>.<body>" when settings.signature.timestamp_header names a
//     header carrying unix seconds. The secret string is the key.
//   - stripe: header (default Stripe-Signature) "t=<unix>,v1=<hex>[,v1=...]",
//     signed content "<t>.<body>", any v1 may match. The secret string,
//     "whsec_" included, is the key.
//
// Signatures are checked over the raw bytes in constant time before any
// parsing. Signed timestamps must lie within settings.signature.tolerance
// (default 5m) of the clock, in either direction. Every failure wraps
// ingest.ErrUnauthenticated (401) and names the header at fault.
//
// # Records (Parse)
//
// The body must be application/json or application/*+json (charset, if
// given, utf-8), else 415. It is decoded strictly: invalid UTF-8, a key
// repeated in one object, or anything after the JSON value is 400
// (ErrMalformed), since encoding/json would otherwise pick one reading
// silently; an empty body is 400. Nesting beyond limits.max_depth, a string,
// number or key beyond limits.max_field_bytes, more than limits.max_records
// records or limits.max_fields fields, or a flattened field name over 1024
// bytes is 413 (ErrTooLarge): those are limits, not broken JSON. Syntax
// errors give line, column and byte offset, never content.
//
// The whole body is one record, or, with settings.records_path, each element
// of the array there is (batched deliveries). A record must be an object.
// Record.Fields holds every non-null scalar under its dotted path
// ("lead.email", "items.0.name"): strings unescaped, numbers exactly as
// written (ids beyond 2^53 intact), booleans "true"/"false"; empty objects
// and arrays leave nothing. Two keys that flatten to one name are 400.
// DefaultMapping is empty, so nothing reaches Kafka that the connector's
// mapping does not name. There are no Checkboxes: consent comes from fields
// the connector's consent section names by path.
//
// Record.EventID comes from settings.event_id_path; else, with
// standard_webhooks, from the signed webhook-id (":<index>" appended when
// one delivery holds several records); else it is "sha256:" + hex SHA-256 of
// the record's canonical JSON. A record lacking a configured id is 400. A
// repeated id inside one delivery counts in Batch.Ignored. Kind and Type
// come from settings (type_path values are prefixed "generic."); Form,
// OccurredAt, GPC and Test from optional paths. See Config for every key.
//
// SignStandard and SignHMAC sign bodies the way a configured sender would,
// for tests, the dev request printer and load generators.
package generic
