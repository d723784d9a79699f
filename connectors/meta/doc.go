// Package meta is the connector for Meta webhooks: Facebook Pages Lead Ads
// (object "page", field "leadgen") and Instagram interactions (object
// "instagram": comments, live comments, mentions, direct messages).
//
// Contract (see internal/ingest):
//
//   - Handshake answers Meta's GET verification (hub.mode=subscribe,
//     hub.verify_token, hub.challenge) with the challenge as text/plain, after
//     a constant-time comparison with the secret "verify_token". No I/O.
//   - Verify checks X-Hub-Signature-256 ("sha256=<hex HMAC-SHA256>") over the
//     raw body with the secret "app_secret". Meta computes it over an
//     escaped-unicode rendering of the payload; it normally sends that same
//     rendering, but when the raw check fails and the body holds non-ASCII
//     bytes the check is retried once over the body with every non-ASCII rune
//     rewritten as \uXXXX. The legacy SHA-1 header is accepted only when
//     settings.accept_sha1 is on.
//   - Parse splits a delivery into one item per entry × change / messaging
//     event, because Meta batches up to 1000 updates per POST:
//     leadgen changes become FetchJobs (the notification carries no
//     answers), Instagram comments, mentions and messages become interaction
//     records, deleted messages become deletion records, and anything else
//     Meta may send (other objects, fields, echoes of our own messages,
//     reactions, read receipts, ...) is counted in Batch.Ignored. An item
//     that cannot be read is put in Batch.Rejected and the others go on:
//     Meta retries a refused delivery whole, so one bad update must not
//     hold back the rest. Only an unreadable envelope, or a delivery of
//     which no item could be read, is an error.
//   - Fetch pulls a lead from the Graph API (GET /{version}/{leadgen_id})
//     with the secret "page_access_token" and turns field_data into Fields
//     and custom_disclaimer_responses into Checkboxes.
//
// Event ids: leadgen_id for leads, the comment id for comments, the message
// mid for messages, "message_deleted:<mid>" for deletions (so a deletion is
// never taken for a redelivery of the message it deletes) and
// "mention:<account id>:<comment or media id>" for mentions. 64-bit ids are
// kept as the exact decimal text Meta sent, whether as JSON string or number.
//
// Field names: Instagram records carry the notification's JSON as dotted
// paths (from.id, from.username, text, sender.id, message.text, ...);
// comments and mentions add entry.id, the receiving account. Lead records carry each field_data
// question name with its values joined by ", ", and lead metadata under
// "lead." (lead.ad_id, lead.form_id, lead.is_organic, lead.platform).
//
// Secrets (connector file, secrets: section):
//
//	app_secret         required; the Meta app's App Secret (signatures)
//	verify_token       required; the Verify Token typed in the dashboard
//	page_access_token  long-lived Page token with leads_retrieval; needed only
//	                   for Lead Ads (without it every lead job dead-letters)
//
// Instagram mentions carry no user id (Meta sends only comment_id and
// media_id), so mention records have no field mapped to platform_user_id.
package meta
