// Package app wires the gateway from its configuration and runs it:
// store, Kafka producer, policy and consent engine, connectors, pipeline,
// HTTP server, outbox relay and fetch workers, all under one context.
//
// Start-up fails before listening when anything is wrong — every config
// problem at once, an unreachable database or Kafka — with a message that
// names what to fix. Shutdown runs in the order that loses nothing: stop
// being ready, stop accepting, drain in-flight requests, stop workers after
// their batch, flush the producer, close the store.
package app
