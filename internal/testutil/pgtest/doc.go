// Package pgtest gives tests a real, empty PostgreSQL database of their own.
//
// URL creates consentgate_test_<random> on the server named by
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres
// ?sslmode=disable) and drops it when the test ends. Without a reachable
// server the test is skipped with a loud SKIPPING message, or fails when
// the CI environment variable is set, so CI can never pass by skipping.
//
// Terminate ends all server sessions of a test database, to check that code
// survives a database restart or failover without being restarted itself.
package pgtest
