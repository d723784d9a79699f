package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinels every backend returns (wrapped) for the same conditions.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrCommitUnknown matches a failed COMMIT: the transaction may or may
	// not have taken effect, so its work must not simply be run again.
	ErrCommitUnknown = errors.New("commit outcome unknown")
)

// Store is everything the gateway persists.
type Store interface {
	Ping(ctx context.Context) error
	Close() error

	Events
	Connectors
	Decisions
	Outbox
	Ledger
	Jobs
	Notices
	AdminTokens
	AdminAudit
	DeadLetters
}

// Migrator is implemented by the SQL backends: Migrate applies pending
// schema migrations (the `migrate` command, or a store opened without
// migrating at open) and SchemaVersion reports the applied and the newest
// known version.
type Migrator interface {
	Migrate(ctx context.Context) error
	SchemaVersion(ctx context.Context) (current, latest int64, err error)
}

// EventKey identifies one platform event for de-duplication.
type EventKey struct {
	Connector string
	EventID   string
}

// Events is the de-duplication window (table seen_events).
//
// A delivery first claims its events; only the winner of a claim forwards.
// A claim is completed once the record is durable (Kafka or outbox), or
// released when it could not be kept, so the platform's retry is processed
// anew. A pending claim older than the lease is abandoned (its process
// died) and may be claimed again: nothing acknowledged is lost that way,
// because acknowledgement only follows completion.
type Events interface {
	// ClaimEvents returns won[i] = true when the caller now owns keys[i].
	ClaimEvents(ctx context.Context, keys []EventKey, now time.Time, lease time.Duration) (won []bool, err error)
	// BeginEvents claims b.Keys as ClaimEvents does and, in the same
	// transaction, appends the ledger entries of the keys it won and reads
	// the current consent of their subjects, entries just appended
	// included: everything a delivery needs before its filter runs, in one
	// round trip. Nothing of a lost key is written or read. An invalid
	// entry fails the call before anything is written.
	BeginEvents(ctx context.Context, b Begin) (Begun, error)
	// CompleteEvents marks claims done and stores their decisions and
	// outbox messages in one transaction.
	CompleteEvents(ctx context.Context, c Completion) error
	// ReleaseEvents removes pending claims.
	ReleaseEvents(ctx context.Context, keys []EventKey) error
	// PendingEvents reports, per key, whether its claim is still pending
	// (another delivery of the same event is in flight, or its process
	// died within the lease) rather than done or absent. A lost claim that
	// is pending must not be acknowledged: nothing is durable yet.
	PendingEvents(ctx context.Context, keys []EventKey) (pending []bool, err error)
	// PurgeSeen forgets completed events seen before the cut-off (de-dup
	// window), and pending claims taken before it: those were abandoned
	// long ago, since the window is far longer than any lease.
	PurgeSeen(ctx context.Context, before time.Time) (int64, error)
}

// Begin is what BeginEvents claims, writes and reads. Entries, Subjects
// and Linked are nil or as long as Keys: Entries[i] is appended and the
// current consent of Subjects[i] (when not empty) and of Linked[i] (the
// record's other identifiers) read only when Keys[i] is won.
type Begin struct {
	Keys     []EventKey
	Now      time.Time
	Lease    time.Duration
	Entries  [][]ConsentEntry
	Subjects []string
	Linked   [][]string
}

// ReadSubjects lists the subjects whose current consent is read for
// Keys[i]: Subjects[i], when set, and Linked[i].
func (b Begin) ReadSubjects(i int) []string {
	var out []string
	if b.Subjects != nil && b.Subjects[i] != "" {
		out = append(out, b.Subjects[i])
	}
	if b.Linked != nil {
		out = append(out, b.Linked[i]...)
	}
	return out
}

// Begun is BeginEvents' answer: Won as from ClaimEvents, Current as from
// CurrentConsent for the subjects of the won keys.
type Begun struct {
	Won     []bool
	Current map[string]map[string]ConsentEntry
}

// Check reports a Begin whose Entries or Subjects do not line up with Keys,
// or that holds an entry AppendConsent would refuse.
func (b Begin) Check() error {
	if b.Entries != nil && len(b.Entries) != len(b.Keys) {
		return fmt.Errorf("begin events: %d entry lists for %d keys", len(b.Entries), len(b.Keys))
	}
	if b.Subjects != nil && len(b.Subjects) != len(b.Keys) {
		return fmt.Errorf("begin events: %d subjects for %d keys", len(b.Subjects), len(b.Keys))
	}
	if b.Linked != nil && len(b.Linked) != len(b.Keys) {
		return fmt.Errorf("begin events: %d linked subject lists for %d keys", len(b.Linked), len(b.Keys))
	}
	for i, es := range b.Entries {
		for j, e := range es {
			if err := e.Check(); err != nil {
				return fmt.Errorf("begin events: key %d entry %d: %w", i, j, err)
			}
		}
	}
	return nil
}

// Completion is written in one transaction.
type Completion struct {
	Done      []EventKey
	Decisions []Decision
	Outbox    []OutboxMessage
}

// Connector is a stored connector definition. Spec is the connector's
// configuration as JSON; secrets in it are references (env/file) or
// ciphertext, never plain values.
type Connector struct {
	ID        string          `db:"id" json:"id"`
	Platform  string          `db:"platform" json:"platform"`
	Name      string          `db:"name" json:"name"`
	Enabled   bool            `db:"enabled" json:"enabled"`
	Spec      json.RawMessage `db:"spec" json:"spec"`
	UpdatedAt time.Time       `db:"updated_at" json:"updated_at"`
}

type Connectors interface {
	ListConnectors(ctx context.Context) ([]Connector, error)
	// GetConnector returns ErrNotFound when there is none.
	GetConnector(ctx context.Context, id string) (Connector, error)
	// PutConnector creates or replaces.
	PutConnector(ctx context.Context, c Connector) error
	// DeleteConnector returns ErrNotFound when there is none.
	DeleteConnector(ctx context.Context, id string) error
}

// Decision is the audit line for one record: what happened and why, with
// field names and rule names only, never a value.
type Decision struct {
	ID            string            `db:"id" json:"id"`
	At            time.Time         `db:"at" json:"at"`
	Connector     string            `db:"connector" json:"connector"`
	EventID       string            `db:"event_id" json:"event_id"`
	SubjectKey    string            `db:"subject_key" json:"subject_key"`
	Outcome       string            `db:"outcome" json:"outcome"` // forwarded, dropped, queued, duplicate, test
	Rules         []string          `db:"-" json:"rules"`
	Fields        map[string]string `db:"-" json:"fields"` // field name → action; see UnmappedFields
	PolicyVersion string            `db:"policy_version" json:"policy_version"`
	Topic         string            `db:"topic" json:"topic,omitempty"`
	RequestID     string            `db:"request_id" json:"request_id,omitempty"`
}

// UnmappedFields is the Decision.Fields key that counts the n payload
// fields no one named, all dropped: "(unmapped: 3)" → "drop". Their names
// are the sender's text and may be personal data, so a decision names only
// canonical fields and platform fields the connector's configuration
// names. The parentheses keep the key apart from every field name.
func UnmappedFields(n int) string { return "(unmapped: " + strconv.Itoa(n) + ")" }

// DecisionFilter narrows ListDecisions; zero values match everything.
type DecisionFilter struct {
	Connector string
	Outcome   string
	Since     time.Time
	Until     time.Time
	Limit     int // default 100
}

type Decisions interface {
	// ListDecisions returns newest first.
	ListDecisions(ctx context.Context, f DecisionFilter) ([]Decision, error)
}

// OutboxMessage is a filtered record waiting for Kafka.
type OutboxMessage struct {
	ID         int64             `db:"id" json:"id"`
	Topic      string            `db:"topic" json:"topic"`
	Key        []byte            `db:"key" json:"key"`
	Value      []byte            `db:"value" json:"value"`
	Headers    map[string]string `db:"-" json:"headers"`
	SubjectKey string            `db:"subject_key" json:"subject_key"`
	// LinkedKeys are the subject keys of the record's other identifiers,
	// for the relay's consent recheck.
	LinkedKeys []string  `db:"-" json:"linked_keys,omitempty"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	Attempts   int       `db:"attempts" json:"attempts"`
}

// ParkedMessage describes a parked outbox message for operators: where it
// was going, since when and why, never what it carries.
type ParkedMessage struct {
	ID        int64     `db:"id" json:"id"`
	Topic     string    `db:"topic" json:"topic"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	DeadAt    time.Time `db:"dead_at" json:"parked_at"`
	Reason    string    `db:"dead_reason" json:"reason"`
	Attempts  int       `db:"attempts" json:"attempts"`
}

// Outbox is the queue of records waiting for Kafka. A message Kafka
// refuses for good (unknown topic, not authorized, too large) is parked:
// it stays in the table, marked dead with the reason, and is skipped by
// ClaimOutbox and OutboxStats until an operator requeues it (clears
// dead_at; docs/reliability.md). Nothing parked is ever deleted but by
// an erasure.
type Outbox interface {
	// ClaimOutbox leases up to limit messages, oldest first, skipping ones
	// leased by another instance, for lease, and parked ones.
	ClaimOutbox(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]OutboxMessage, error)
	// DeleteOutbox removes published messages.
	DeleteOutbox(ctx context.Context, ids []int64) error
	// ParkOutbox marks messages dead with reason (an error text without
	// payload) and releases their lease; unknown ids are ignored.
	ParkOutbox(ctx context.Context, ids []int64, reason string, at time.Time) error
	// OutboxStats reports depth and the age of the oldest message, parked
	// messages excluded.
	OutboxStats(ctx context.Context, now time.Time) (depth int64, oldest time.Duration, err error)
	// DeadOutbox counts the parked messages.
	DeadOutbox(ctx context.Context) (int64, error)
	// ListParkedOutbox lists parked messages, oldest first, without their
	// key and value (the record); limit defaults to 100.
	ListParkedOutbox(ctx context.Context, limit int) ([]ParkedMessage, error)
	// RequeueOutbox returns parked messages to the queue (every parked one
	// when ids is empty) and reports how many; they keep their id, so the
	// relay claims them before anything newer.
	RequeueOutbox(ctx context.Context, ids []int64) (int64, error)
}

// Consent statuses and methods.
const (
	StatusGranted   = "granted"
	StatusDenied    = "denied"
	StatusWithdrawn = "withdrawn"

	MethodFormCheckbox = "form_checkbox"
	MethodAPI          = "api"
	MethodImport       = "import"
	MethodAdmin        = "admin"
)

// ConsentEntry is one append-only ledger line.
type ConsentEntry struct {
	ID            string     `db:"id" json:"id"`
	SubjectKey    string     `db:"subject_key" json:"subject_key"`
	Purpose       string     `db:"purpose" json:"purpose"`
	Status        string     `db:"status" json:"status"`
	Method        string     `db:"method" json:"method"`
	Platform      string     `db:"platform" json:"platform,omitempty"`
	Connector     string     `db:"connector" json:"connector,omitempty"`
	Form          string     `db:"form" json:"form,omitempty"`
	CheckboxKey   string     `db:"checkbox_key" json:"checkbox_key,omitempty"`
	NoticeID      string     `db:"notice_id" json:"notice_id,omitempty"`
	NoticeVersion string     `db:"notice_version" json:"notice_version,omitempty"`
	ObtainedAt    time.Time  `db:"obtained_at" json:"obtained_at"`
	RecordedAt    time.Time  `db:"recorded_at" json:"recorded_at"`
	ExpiresAt     *time.Time `db:"expires_at" json:"expires_at,omitempty"`
	PayloadSHA256 string     `db:"payload_sha256" json:"payload_sha256,omitempty"`
	RequestID     string     `db:"request_id" json:"request_id,omitempty"`
}

// Check reports what AppendConsent would refuse in e before anything is
// written.
func (e ConsentEntry) Check() error {
	switch {
	case e.SubjectKey == "":
		return errors.New("subject_key is empty")
	case e.Purpose == "":
		return errors.New("purpose is empty")
	case e.Status != StatusGranted && e.Status != StatusDenied && e.Status != StatusWithdrawn:
		return fmt.Errorf("status %q: want granted, denied or withdrawn", e.Status)
	case e.Method == "":
		return errors.New("method is empty")
	case e.ObtainedAt.IsZero():
		return errors.New("obtained_at is zero")
	}
	return nil
}

type Ledger interface {
	// AppendConsent adds entries; entries are never updated.
	AppendConsent(ctx context.Context, entries []ConsentEntry) error
	// CurrentConsent returns, per purpose, the entry with the latest
	// ObtainedAt (ties: latest RecordedAt) for each subject asked for.
	CurrentConsent(ctx context.Context, subjectKeys []string) (map[string]map[string]ConsentEntry, error)
	// ConsentHistory returns every entry of a subject, oldest first.
	ConsentHistory(ctx context.Context, subjectKey string) ([]ConsentEntry, error)
	// EraseSubject deletes a subject's entries and leaves one tombstone
	// without identifier; returns how many entries were removed. No row in
	// the store keeps the subject key afterwards: queued outbox messages of
	// the subject are deleted and decisions lose their subject key.
	EraseSubject(ctx context.Context, subjectKey string, at time.Time) (int64, error)
	// ListTombstones returns erasures, newest first; limit defaults to 100.
	ListTombstones(ctx context.Context, limit int) ([]Tombstone, error)
	// LapsedGrants returns the current entries (as CurrentConsent picks
	// them) of purpose that are grants obtained in [obtainedFrom,
	// obtainedBefore), oldest first: the grants whose validity lapsed in
	// a sweep window. Grants replaced by a later statement are not listed.
	LapsedGrants(ctx context.Context, purpose string, obtainedFrom, obtainedBefore time.Time) ([]ConsentEntry, error)
}

// Tombstone proves an erasure happened without saying whose.
type Tombstone struct {
	ID             string    `db:"id" json:"id"`
	ErasedAt       time.Time `db:"erased_at" json:"erased_at"`
	EntriesRemoved int64     `db:"entries_removed" json:"entries_removed"`
}

// Fetch job states.
const (
	JobPending    = "pending"
	JobDone       = "done"
	JobDeadLetter = "dead_letter"
)

// Job is a fetch job for a notify-only platform.
type Job struct {
	ID          int64     `db:"id" json:"id"`
	Connector   string    `db:"connector" json:"connector"`
	EventID     string    `db:"event_id" json:"event_id"`
	Ref         string    `db:"ref" json:"ref"`
	Form        string    `db:"form" json:"form,omitempty"`
	OccurredAt  time.Time `db:"occurred_at" json:"occurred_at"`
	State       string    `db:"state" json:"state"`
	Attempts    int       `db:"attempts" json:"attempts"`
	NextAttempt time.Time `db:"next_attempt_at" json:"next_attempt_at"`
	LastError   string    `db:"last_error" json:"last_error,omitempty"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
	// RequestID and PayloadSHA256 are the evidence of the notification
	// that announced the job: the ledger entries of the fetched lead
	// carry them.
	RequestID     string `db:"request_id" json:"request_id,omitempty"`
	PayloadSHA256 string `db:"payload_sha256" json:"payload_sha256,omitempty"`
}

// Jobs is the fetch-job queue. Attempts counts claims: ClaimJobs increments
// it, so a job whose worker keeps dying still reaches the dead letter, and
// RetryJob only records why the attempt failed and when to try next.
// FinishJob, RetryJob, DeadLetterJob and RequeueJob return ErrNotFound for
// an unknown id; RequeueJob returns ErrConflict for a job that is not
// dead-lettered.
type Jobs interface {
	// EnqueueJobs stores jobs as pending, available now; a job whose
	// (connector, event id) exists already is skipped (not an error).
	EnqueueJobs(ctx context.Context, jobs []Job) error
	// ClaimJobs leases up to limit due pending jobs (SKIP LOCKED where the
	// backend has it) by pushing their next attempt to now+lease.
	ClaimJobs(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]Job, error)
	// FinishJob marks a job done.
	FinishJob(ctx context.Context, id int64) error
	// RetryJob records a failed attempt and the time of the next one.
	RetryJob(ctx context.Context, id int64, next time.Time, reason string) error
	// DeadLetterJob records a final failure.
	DeadLetterJob(ctx context.Context, id int64, reason string) error
	// JobStats counts the jobs waiting (pending) and dead-lettered, and
	// reports the age of the oldest pending one (zero when none).
	JobStats(ctx context.Context, now time.Time) (pending, dead int64, oldest time.Duration, err error)
	// ListJobs lists jobs in a state ("" for any), newest first; limit
	// defaults to 100.
	ListJobs(ctx context.Context, state string, limit int) ([]Job, error)
	// RequeueJob moves a dead-lettered job back to pending with zero attempts.
	RequeueJob(ctx context.Context, id int64, now time.Time) error
}

// Notice is a registered privacy text: what a subject was shown when a
// consent was obtained. The text itself is not stored, only its SHA-256.
type Notice struct {
	ID            string    `db:"id" json:"id"`
	Version       string    `db:"version" json:"version"`
	URL           string    `db:"url" json:"url,omitempty"`
	TextSHA256    string    `db:"text_sha256" json:"text_sha256"`
	EffectiveFrom time.Time `db:"effective_from" json:"effective_from"`
}

type Notices interface {
	// PutNotice registers a notice version. Registering the same content
	// again is a no-op; different content under an existing (id, version)
	// returns ErrConflict, because what was shown must never change.
	PutNotice(ctx context.Context, n Notice) error
	// ListNotices returns every version, by id then effective date.
	ListNotices(ctx context.Context) ([]Notice, error)
	// GetNotice returns ErrNotFound when there is none.
	GetNotice(ctx context.Context, id, version string) (Notice, error)
}
