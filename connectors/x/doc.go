// Package x is the X (Twitter) Account Activity API connector.
//
// X pushes full events, so there is no fetch step. The connector:
//
//   - answers the CRC handshake (GET ?crc_token=...) with
//     {"response_token":"sha256=<base64 HMAC-SHA256(secret, crc_token)>"}
//     as application/json, without I/O (X allows about 3 s);
//   - verifies every POST over the raw body: header X-Twitter-Webhooks-Signature
//     keyed with the OAuth 1.0a consumer secret (settings.signature "legacy"),
//     header X-Twitter-Webhooks-Signature-OAuth2 keyed with the OAuth 2.0
//     client secret ("oauth2"), or the OAuth2 header when present and the
//     legacy one otherwise ("oauth2_or_legacy", for apps with both secrets).
//     Without settings.signature the scheme follows the secrets that are set:
//     both → "oauth2_or_legacy", client_secret only → "oauth2", else "legacy".
//     Values are "sha256=" + base64, compared in constant time. X signs no
//     timestamp, so there is no replay window: redeliveries are caught by the
//     gateway's de-duplication on EventID;
//   - turns every element of every event array into its own record.
//
// Secrets (env.Secret): "consumer_secret" (legacy and oauth2_or_legacy) and
// "client_secret" (oauth2 and oauth2_or_legacy). The CRC answer uses the
// client secret whenever the scheme uses it, as X documents ("generate it
// with the OAuth 2.0 client secret when available, or with the OAuth 1.0
// consumer secret for existing OAuth 1.0-only integrations"), else the
// consumer secret.
//
// Records. Every interaction is keyed by the user who acted, whose id sits in
// a field DefaultMapping maps to platform_user_id; Form carries for_user_id
// (the subscribed account the delivery is about). Ids come from id_str (or
// from a string id); a numeric id above 2^53 is never trusted, because X's
// own JSON rounds it.
//
//	array / object                 Kind         Type                    EventID
//	tweet_create_events[]          interaction  x.mention | x.post      tweet:<id_str>
//	favorite_events[]              interaction  x.favorite              favorite:<id>
//	follow_events[] (+unfollow_)   interaction  x.follow | x.unfollow   <type>:<source>:<target>:<created_timestamp>
//	block_events[] (+unblock_)     interaction  x.block | x.unblock     same
//	mute_events[] (+unmute_)       interaction  x.mute | x.unmute       same
//	direct_message_events[]        interaction  x.dm                    dm:<id>
//	tweet_delete_events[]          deletion     x.tweet_delete          tweet_delete:<status.id>
//	user_event.revoke              deletion     x.revoke                revoke:<app_id>:<user_id>:<date_time>
//
// A tweet is x.mention when someone other than for_user_id wrote it and it
// names for_user_id in entities.user_mentions (or extended_tweet's) or replies
// to it; retweets are never mentions (their "RT @..." prefix names the
// original author). Every other tweet is x.post. EventIDs leave for_user_id
// out on purpose: X documents the copies it sends once per subscribed user
// (a DM between two subscribed accounts, a mention of both) as duplicates.
//
// Understood but not forwarded, counted in Batch.Ignored: typing indicators
// (direct_message_indicate_typing_events), read receipts
// (direct_message_mark_read_events), replay_job_status, DM events other than
// message_create, other user_event kinds, and any top-level key this package
// does not know (one per array element), so a new X event type is answered
// 200 instead of being retried. With settings.ignore_own_activity, events
// the subscribed account performed itself are ignored too (deletions never
// are). A body that is not a JSON object, or has no event key at all, is
// malformed. A forwarded event that cannot be read (missing the id it is
// keyed by, a value of the wrong type, an event array that is not an
// array) is rejected alone (Batch.Rejected) and the other events go on; a
// delivery none of whose events could be read is malformed.
//
// The CRC token is restricted to a base64/UUID-like alphabet and 1 KiB:
// because the CRC answer and the POST signature are the same HMAC under the
// same secret, answering arbitrary tokens would let anyone obtain a valid
// signature for a JSON body of their choice.
package x
