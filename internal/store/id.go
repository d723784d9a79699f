package store

import "github.com/google/uuid"

// NewID returns a new row id for ledger entries, decisions and audit
// entries: a UUIDv7, so ids created one after another sort together and
// each insert lands at the edge of the id index instead of on a random page
// of it, which is most of what a write costs once the index outgrows the
// cache.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}
