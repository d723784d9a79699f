// Package policy loads and validates the consent policy file: which
// purposes exist, which canonical fields serve which purposes (categories),
// what to do with a field when none of its purposes is consented, and which
// consent regime applies in which jurisdiction. docs/policy.md is the
// operator's reference for the format.
//
// Contract:
//   - Load/Parse either return a complete, consistent *Policy or a Problems
//     error listing every problem in the file at once, each with file, line,
//     key path and a fix. Unknown keys, duplicate keys and values of the
//     wrong shape are problems, never ignored.
//   - Things that are legal but probably unintended (a purpose no category
//     uses, a field listed twice in one category) are Warnings, not errors.
//   - A *Policy is read-only after loading and safe for concurrent use.
//   - Resolve/Regime never guess towards less protection: a country whose
//     regions differ given without a region ("US" when US-CA is listed), a
//     value that is not an ISO code, or a group whose members disagree all
//     resolve to opt_in. An ISO country the policy does not list gets the
//     policy default.
//
// There are no includes and no references between policy files, so there
// is nothing that could form an include cycle. YAML anchors and aliases are
// resolved (handy for sharing a purposes list); the walk is driven by the
// fixed-depth schema, so a self-referencing anchor cannot loop. YAML merge
// keys (<<) are refused with a problem rather than half-supported.
//
// The package has no I/O besides reading the file in Load, and no
// dependency on the gateway, store or Kafka.
package policy
