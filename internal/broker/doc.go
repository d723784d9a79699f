// Package broker runs the embedded Kafka-protocol broker behind
// `consentgate dev`: franz-go's kfake, one node, reachable by any Kafka
// client (kafka-go, franz-go, kcat, the Java tools) on a fixed address.
//
// Contract:
//   - Start binds the address before returning; a port already in use is a
//     clear error naming the address and the fix.
//   - With a DataDir, topics and records survive Close + Start (kfake writes
//     its log continuously and saves the rest on Close). Without one,
//     everything lives in memory and dies with the process.
//   - Retention is enforced (log.retention.ms, log.retention.bytes per
//     partition), checked every RetentionCheck, so a long-running dev
//     gateway stays bounded in memory and on disk. kfake applies broker-level
//     retention only when asked, which is why this package runs the check.
//   - Topics that producers ask for are created automatically with
//     Partitions partitions; the seed Topics exist right after Start.
//
// This is a development broker: no replication, no authentication, bound
// to loopback by default. Production uses real Kafka.
package broker
