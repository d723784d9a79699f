// Package gwtest starts a whole consentgate gateway in-process for tests:
// the real app.Start on a real broker (kfake unless brokers are given) and
// a real database (a throwaway PostgreSQL database from pgtest, or a
// throwaway SQLite file), serving real HTTP on a free loopback port.
//
// Start writes a config directory (the shipped configs/policy.yaml unless
// Options.Policy says otherwise, plus Options.Connectors), sets the
// Options.Env variables the connector files refer to, and stops the
// gateway when the test ends, failing the test if shutdown errors.
//
// The helpers around it (Send/Post, Call/API, Response accessors, Lead,
// SignHMAC, LogBuffer, WaitFor, RepoRoot) are shared by the e2e, fault,
// browser and admin API suites so each of them states only what is
// particular to it: its connector files, secrets and assertions.
package gwtest
