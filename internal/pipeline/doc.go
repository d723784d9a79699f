// Package pipeline is the gateway's core, free of HTTP: verify → parse →
// de-duplicate → resolve subject and consent → record payload consent in
// the ledger → filter → forward, and the answer to give the platform.
//
// Acknowledge only what is durable: Deliver answers 200 only once every
// record of the delivery is acknowledged by Kafka (acks=all) or, when Kafka
// cannot take it in time, written to the store's outbox in the same
// transaction as its de-dup entry and decision. When neither can keep it,
// the claims are released and the platform is told to retry (503), so a
// retry is processed anew rather than mistaken for a duplicate.
//
// Nothing here logs or returns a field value: logs, errors and decisions
// name connectors, event ids, subject keys (keyed hashes), fields and rules.
package pipeline
