// Package connsync keeps every instance's live connector set equal to the
// connector files plus the connectors stored through the admin API, without
// a restart.
//
// Contract:
//   - File connectors (the connectors directory) are loaded at start and are
//     read-only through the API; a stored connector with a file connector's
//     id is ignored (logged).
//   - Stored connectors are rows of the connectors table whose spec column
//     holds the connector file's keys as JSON, with secrets as env/file
//     references or values sealed by internal/secretbox (never plain).
//   - Each instance polls the table (Run, every ~2 s): a row whose
//     updated_at, flag or spec changed is rebuilt with config.ParseConnector
//     — the very validation connector files get — and the live set is
//     swapped atomically (pipeline.SetConnectors). The instance that made a
//     change calls Sync at once, so its own answer already reflects it.
//   - A stored secret that cannot be opened (no key, unknown key id, wrong
//     key) fails Start with a message naming the connector, secret and key
//     id: never a connector running with garbage secrets. After start, a
//     row that does not build keeps its last good version live, logged.
package connsync
