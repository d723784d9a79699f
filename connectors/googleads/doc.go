// Package googleads is the connector for Google Ads lead form webhooks.
//
// Contract:
//
//   - Secret: "google_key", the key the advertiser entered in the lead form's
//     webhook settings. Google sends it back inside every JSON body as
//     google_key; there is no signature header and no handshake.
//   - Verify reads only the top-level google_key member of the raw body and
//     compares it with the secret in constant time: missing, repeated, not a
//     string or different → 401. A body that is not JSON cannot carry the key
//     and is refused the same way.
//   - Parse first rewrites req.Body with the key's value replaced by
//     "[redacted]", then turns the body into exactly one record (type
//     "googleads.lead", EventID = lead_id). Fields hold each
//     user_column_data[].string_value under its column_id (FULL_NAME, EMAIL,
//     PHONE_NUMBER, custom question ids, ...; column_name when column_id is
//     missing, if settings.column_name_fallback) plus lead_id, api_version,
//     form_id, campaign_id, gcl_id, adgroup_id, creative_id, asset_group_id
//     and lead_stage, ids kept as exact digits whether sent as numbers or
//     strings. is_test → Record.Test; lead_submit_time (RFC 3339) →
//     OccurredAt. google_key never appears in a record.
//   - Consent: Google's schema has no checkbox answers. A consent question on
//     the form arrives as an ordinary column; name its column_id as a
//     consent checkbox key in the connector file and the gateway reads the
//     answer from Fields.
//
// Google's response-code, timeout and retry rules are undocumented; answer
// 200 quickly and de-duplicate on lead_id.
package googleads
