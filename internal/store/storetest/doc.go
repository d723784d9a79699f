// Package storetest is the store contract: one suite that every backend
// passes. A backend's test is a few lines:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// The suite covers every method of store.Store: claim semantics (one winner
// among concurrent claimers, leases, completion, release), atomic
// completion, the de-dup window, outbox order and leases, the consent
// ledger (latest time of choice wins, append-only, erasure that leaves no
// trace of the subject key but a tombstone), fetch jobs, connectors,
// decisions and notices. Times derive from a fixed origin, never the wall
// clock; concurrency tests count winners instead of timing anything.
//
// BenchClaimComplete measures the store's share of one accepted request.
package storetest
