// Package store is the gateway's one persistence interface. Backends live in
// sub-packages (sqlite for the zero-setup default, postgres for production)
// and both pass the same contract suite in storetest.
//
// Backends translate driver errors to the sentinels below, so callers never
// see a driver type. Nothing stored here contains a raw identifier or an
// unfiltered payload: subject keys are keyed hashes, decisions name fields
// and rules but never values, and the outbox holds only filtered records.
//
// Times are kept at microsecond precision and come back in UTC. Callers pass
// the clock (now) wherever a decision depends on it, so tests need no sleep.
package store
