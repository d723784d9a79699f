// Package linkedin is the connector for LinkedIn Lead Gen Forms: Lead Sync
// lead notification webhooks plus the Lead Sync REST API.
//
// Contract (see internal/ingest):
//
//   - Handshake answers LinkedIn's endpoint validation, GET
//     ?challengeCode=X, with 200 application/json
//     {"challengeCode":X,"challengeResponse":hex(HMAC-SHA256(client_secret, X))}.
//     A missing challengeCode is malformed (400). No I/O: LinkedIn allows 3 s
//     and re-validates every 2 hours, blocking the URL after 3 failures.
//   - Verify checks X-LI-Signature: HMAC-SHA256 keyed with client_secret
//     over "hmacsha256=" + the raw body (settings.signature_message_prefix),
//     hex by default (settings.signature_encoding; LinkedIn documents the
//     message but not the encoding), hex compared case-insensitively, an
//     "hmacsha256=" prefix on the header value tolerated, all in constant
//     time. There is no timestamp, so no replay window: de-dup covers
//     redeliveries.
//   - Parse reads lead notifications ({type: LEAD_ACTION, leadAction,
//     leadGenFormResponse, leadGenForm, owner, associatedEntity, leadType,
//     occurredAt}). LinkedIn documents one object per POST; a JSON array of
//     them, or a {"notifications":[...]} envelope, is split so each becomes
//     its own job or record. CREATED becomes a FetchJob (the notification
//     carries no answers); DELETED becomes a KindDeletion record carrying
//     the lead, form and owner URNs; other types and actions are counted in
//     Batch.Ignored.
//   - Fetch GETs {base_url}/rest/leadFormResponses/{id} and the form version
//     named by versionedLeadGenFormUrn ({base_url}{form_path}, cached in
//     memory by versioned URN, bounded by settings.form_cache_size), with
//     headers LinkedIn-Version (settings.api_version),
//     X-Restli-Protocol-Version 2.0.0 and Authorization: Bearer access_token.
//     429 → *ingest.RetryAfterError; 400/401/403/404 and other 4xx but 408 →
//     ingest.ErrPermanent; 5xx, 408 and network errors → retried.
//
// Event ids: "<leadGenFormResponse URN>|CREATED" for the fetch job and the
// lead record it yields, "<leadGenFormResponse URN>|DELETED" for deletions.
// LinkedIn's lead notifications carry no notification id, and a lead is
// created and deleted at most once.
//
// Field names of lead records: answers to predefined questions under the
// form's predefinedField (FIRST_NAME, LAST_NAME, EMAIL, PHONE_NUMBER,
// COMPANY_NAME, JOB_TITLE, COUNTRY, CITY, STATE, ZIP_CODE, WORK_EMAIL, ...);
// custom questions under "question.<questionId>" (or "question.<name>", see
// settings.custom_question_key); multiple-choice answers as the chosen
// options' text in the form's locale joined by "; "; the form's hidden
// fields as "hidden.<name>"; lead metadata as id, submitter, leadType,
// leadGenFormResponse, versionedLeadGenFormUrn, owner.*, associatedEntity.*,
// leadMetadata.*. Deletion records carry leadGenFormResponse, leadAction,
// leadGenForm, leadType, owner.*, associatedEntity.*. DefaultMapping maps
// leadGenFormResponse to platform_user_id on both, so a CRM can find the
// lead a deletion refers to.
//
// Checkboxes: formResponse.consentResponses, keyed by consentId as decimal
// text ("0", "1", ...), true when accepted. Consent ids are per form, so a
// connector's consent.checkboxes keys assume its forms number their
// consents alike. Record.OccurredAt is submittedAt; Record.Test is testLead.
//
// Secrets (connector file, secrets: section):
//
//	client_secret  required; the LinkedIn app's Client Secret (signatures,
//	               handshake)
//	access_token   required; an OAuth token with r_marketing_leadgen_automation
//	               (leads) for a member who may read the owner's leads
package linkedin
