// Package kafka is the gateway's only door to Kafka: one producer shared by
// every request, plus the small admin calls the gateway needs at start
// (topic creation, a reachability check for /readyz).
//
// Contract:
//   - Produce returns nil only once every message it was given is
//     acknowledged by the broker with acks=all. Anything else is an error,
//     and the caller must treat the messages as not delivered (the gateway
//     then writes them to its outbox). A message may still land after an
//     error (the writer keeps retrying a batch it already sent), so delivery
//     is at-least-once; consumers de-duplicate on the CloudEvents id.
//   - Concurrent callers share batches: what waits is sent together once
//     the oldest message's Linger has passed, counted from when its work
//     began (WithArrival), so throughput does not fall to one produce
//     request per HTTP request and time a webhook already spent waiting
//     elsewhere is not waited again (gather.go). A partition's request
//     carries at most BatchSize messages.
//   - Produce never waits longer than Config.WriteTimeout (or the caller's
//     deadline, if sooner), even when no broker answers.
//   - Errors name the topic and a hint an operator can act on, and never
//     carry message keys, values or header values.
//
// Subpackage kafkatest starts an in-process broker for tests and reads
// topics back.
package kafka
