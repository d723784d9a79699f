// Package subject normalises personal identifiers and turns them into
// subject keys.
//
// A subject key ("sk_" + 64 hex digits) is HMAC-SHA256 over a normalised
// identifier under the deployment's subject secret, with a separate domain
// per identifier type (e-mail, phone, platform user, other). It is stable
// for one secret, so the consent ledger and Kafka partitioning can match a
// person across records without storing the raw identifier, and it cannot
// be reversed or recomputed without the secret. Rotating the secret
// changes every key: the ledger would have to be re-keyed.
//
// Normalisation: e-mail is trimmed and lower-cased (DESIGN §10); phone
// numbers become E.164 through nyaruka/phonenumbers, never a regex.
//
// Contract: no function returns, logs or puts in an error the raw value it
// was given; errors are sentinels such as ErrInvalidPhone.
package subject
