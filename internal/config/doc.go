// Package config loads the gateway's configuration: the gateway file
// (consentgate.yaml), and one file per connector (configs/connectors/).
// The consent policy has its own package (internal/policy).
//
// Decoding is strict (unknown keys fail), defaults live in Default, and
// every problem of every file is reported at once with file, line, key and
// a fix, so an operator fixes a config in one round instead of ten.
// Secrets are references (env or file); their values are resolved here and
// handed to connectors, never logged and never echoed in an error.
package config
