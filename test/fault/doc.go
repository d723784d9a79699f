// Package fault breaks the gateway on purpose and checks the guarantees of
// DESIGN.md §9 hold: Kafka stopped and restarted mid-load, the gateway
// process killed (SIGKILL) or stopped (SIGTERM) mid-load, PostgreSQL
// sessions terminated, retry storms, a bad-input matrix, and a scan of
// logs, error bodies and metrics for the personal data and secrets the
// tests posted. Every part is real: the embedded Kafka-protocol broker
// (restartable on the same port and data directory), PostgreSQL via
// pgtest, HTTP over loopback, and the consentgate binary for process
// faults. docs/reliability.md maps each guarantee to its test here.
package fault
