// Package ingest is the contract between the gateway and platform connectors.
//
// A connector (connectors/<platform>) knows only its platform: how to answer
// its handshake, how to verify a delivery over the raw bytes, how to turn a
// verified body into records (or fetch jobs for notify-only platforms), and
// which stable id the platform gives each event. It knows nothing of Kafka,
// SQL or consent policy: it hands back raw platform field names and checkbox
// answers, and the gateway maps, filters and forwards them.
//
// Errors crossing this boundary are classified by wrapping one of the
// sentinels below; the HTTP edge turns them into statuses in one place.
// Their messages are shown to the caller, so they must never contain payload
// values (PII) or secrets: name the header, field or rule, not its content.
package ingest
