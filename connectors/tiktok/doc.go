// Package tiktok is the connector for TikTok lead generation (Instant Form)
// webhooks.
//
// Contract:
//
//   - Secret: "client_secret", the app's client secret, keys the HMAC.
//   - Handshake: none. TikTok documents no GET challenge; the callback URL is
//     set in the portal or through the Marketing API subscription call.
//   - Verify (settings.signature.scheme):
//     tiktok_signature (default, documented for developer webhooks):
//     `TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256 of "<t>.<body>">`, the
//     timestamp within ±tolerance_seconds (default 300) of env.Now, else 401;
//     open_signature: `X-Open-Signature: <hex HMAC of the body with non-ASCII
//     escaped as \uXXXX>`; plain_hmac: a hex HMAC of the raw body. The last
//     two are reported by third parties for lead webhooks and are not
//     documented by TikTok: confirm with a real test lead before choosing.
//   - Parse: a lead envelope {object, time, entry[]} whose object equals
//     settings.payload.lead_object gives one record per entry (type
//     "tiktok.lead", EventID = the entry's lead id, kept as exact digits).
//     Fields hold the answers by question name plus the entry's own members
//     (advertiser_id, campaign_id, adgroup_id, ad_id, page_id, lead_source,
//     ...); nested values become dotted paths. Answers named in
//     settings.payload.checkbox_fields become Checkboxes instead. Other
//     objects, and developer-platform events ({client_key, event, content})
//     not listed in settings.payload.lead_events, are counted as Ignored.
//   - Every payload member name is configurable under settings.payload.keys
//     because TikTok's lead webhook shape is known only from third-party
//     integrations (see shared/platforms.md §3.2).
//
// Delivery rules (documented for developer webhooks, assumed for leads):
// answer 200 at once; anything else is retried with backoff for 72 hours,
// so de-duplication must cover at least that window.
package tiktok
