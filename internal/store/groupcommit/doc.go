// Package groupcommit coalesces concurrent store writes into shared
// transactions (group commit), so the per-request store work of the
// webhook path — begin the event (claim it, record payload consent, read
// the subject's consent: one BeginEvents call), complete the event — does
// not serialise requests on
// the database's commit latency (SQLite has one writer connection;
// PostgreSQL pays a WAL flush per commit).
//
// Wrap returns a store.Store in which ClaimEvents, BeginEvents,
// AppendConsent, CompleteEvents and CurrentConsent each have a batcher: callers queue,
// and a flusher takes everything queued (up to Options.MaxBatch), makes
// one backend call for all of it and hands each caller its share of the
// result. When nothing else is queued a caller's call is flushed at once:
// there is no timer and no added latency at low load. With Options.Writers
// the write batchers share a slot, so that for a single-writer backend
// (SQLite) a batch forms while another one holds the writer. With a single
// writer and a backend that offers CompleteAndBegin, the completions and
// begins queued meanwhile also share one transaction: one commit where
// there were two (Options.SeparateWrites turns that off). Every other method
// passes straight through. The optional store.Migrator and TableText
// methods of the backend stay visible through the wrapper.
//
// Semantics kept from the backend:
//   - ClaimEvents: merged callers claim in queue order, so of two callers
//     claiming the same key exactly one wins (the earlier one), as with two
//     separate transactions. Only callers with the same lease and clocks
//     within Options.ClockSkew share a call; the call uses the latest of
//     their clocks. A merged claim that fails fails every caller in it and
//     is NOT retried per caller: a failed COMMIT may have taken effect, and
//     a retry would then report the caller's own claims as duplicates
//     (a lost record) instead of an error (a platform retry). Keys a
//     backend could refuse for one caller alone (invalid UTF-8, NUL bytes,
//     very long ids) are therefore never merged with others.
//   - BeginEvents: merged like ClaimEvents (queue order, same lease,
//     clocks within ClockSkew, no per-caller retry). Begins whose entries
//     the backend would refuse run on their own, so they fail alone. Each
//     caller gets the consent of its own won subjects only, in maps of its
//     own; entries appended by an earlier caller of the same batch are
//     visible to a later one, as with two transactions one after another.
//   - AppendConsent, CompleteEvents, CurrentConsent: when a merged call
//     fails (one caller's entry conflicts or is invalid, say), each caller
//     is run again on its own, so one bad caller does not fail the others.
//   - Fused completions and begins: when their shared call fails before
//     COMMIT, each batch runs again on its own, so neither fails for the
//     other's fault; when COMMIT itself failed the begins fail (as a merged
//     claim does) and the completions are run again caller by caller.
//   - Contexts: a caller whose context ends while it is still queued leaves
//     the queue with the context's error. Once its batch runs it waits for
//     the result; the merged call is cancelled only when every caller in it
//     has gone, so one impatient caller cannot abort the others' writes.
//   - Close drains the queues, then closes the backend.
package groupcommit
