package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sentinels that classify a connector error. Wrap them with a message that
// tells the sender what is wrong and how to fix it:
//
//	fmt.Errorf("%w: header X-Hub-Signature-256 is missing", ingest.ErrUnauthenticated)
var (
	// ErrUnauthenticated: signature, secret, token or timestamp check failed (401).
	ErrUnauthenticated = errors.New("authentication failed")
	// ErrMalformed: the body or query could not be understood (400).
	ErrMalformed = errors.New("malformed request")
	// ErrUnsupportedMediaType: the content type is not one the connector reads (415).
	ErrUnsupportedMediaType = errors.New("unsupported content type")
	// ErrTooLarge: a limit on records, depth or field length was exceeded (413).
	ErrTooLarge = errors.New("request too large")
	// ErrNoHandshake: the platform has no GET handshake (405).
	ErrNoHandshake = errors.New("no handshake for this platform")
	// ErrPermanent: a fetch failed in a way retrying will not fix (dead-letter now).
	ErrPermanent = errors.New("permanent failure")
)

// Errorf wraps a sentinel with a client-safe message.
func Errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// Request is one inbound HTTP delivery, framework-free. Body holds the raw
// bytes exactly as received: signatures are computed over them.
type Request struct {
	Method     string
	Header     http.Header
	Query      url.Values
	Body       []byte
	ReceivedAt time.Time
	// RequestID identifies this delivery in logs and evidence.
	RequestID string
}

// Response is what a handshake answers.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Kind says which topic family a record belongs to.
type Kind string

const (
	KindLead        Kind = "lead"
	KindInteraction Kind = "interaction"
	// KindDeletion is a platform's signal that data about a subject must be
	// deleted downstream (LinkedIn DELETED leads, X tweet deletes and revokes).
	KindDeletion Kind = "deletion"
)

// Record is one event turned out of a delivery, before mapping and consent.
type Record struct {
	// EventID is the platform's stable id for this event; a redelivery
	// carries the same id, and it alone decides de-duplication.
	EventID string
	Kind    Kind
	// Type names the platform event, e.g. "meta.leadgen", "x.favorite".
	Type string
	// Form is the platform form (or object) the event came from, if any.
	Form string
	// OccurredAt is when the subject acted on the platform (submission time),
	// zero when the platform does not say. Consent from checkboxes dates from it.
	OccurredAt time.Time
	// Fields maps platform field names (or JSON paths) to values.
	Fields map[string]string
	// Checkboxes maps platform consent-checkbox keys to the subject's answer.
	// A key absent here is silence, never a denial.
	Checkboxes map[string]bool
	// GPC is set when the delivery carried a Global Privacy Control or
	// do-not-sell signal for this record.
	GPC bool
	// Test marks platform test traffic, which never reaches the production topic.
	Test bool
}

// FetchJob asks a worker to pull the data behind a notification later.
type FetchJob struct {
	// EventID is the de-dup key of the notification (e.g. Meta leadgen_id).
	EventID string
	// Ref is what the connector needs to fetch (an id or URN); no PII.
	Ref string
	// Form and OccurredAt as known from the notification.
	Form       string
	OccurredAt time.Time
}

// Batch is what one delivery turned into. Ignored counts events the
// connector understood but does not forward (unsupported event types).
// Rejected lists the items that could not become a record or a job.
type Batch struct {
	Records  []Record
	Jobs     []FetchJob
	Ignored  int
	Rejected []Rejection
}

// Rejection is one item of a well-formed delivery that could not become a
// record or a fetch job (a lead without its id, a value of the wrong type).
// The delivery's other items are processed all the same: platforms retry a
// refused delivery whole, so refusing a batch of leads for one bad item
// would refuse the good ones on every retry until the platform gives up.
type Rejection struct {
	// Index is the item's position in the delivery, from 0, in the order
	// the connector reads its items (the reason names the item by its path).
	Index int `json:"index"`
	// Reason names the item and the problem. Like an error message it is
	// built from fixed field names, indexes and positions only, never from
	// payload keys or values: it reaches logs and the sender.
	Reason string `json:"reason"`
}

// Reject records item index as rejected for err, a client-safe error from
// reading it (its ErrMalformed prefix is left out of the reason).
func (b *Batch) Reject(index int, err error) {
	reason := strings.Replace(err.Error(), ErrMalformed.Error()+": ", "", 1)
	b.Rejected = append(b.Rejected, Rejection{Index: index, Reason: reason})
}

// Result is what Parse returns for b. When items were rejected and nothing
// is left to process, the delivery is refused (400) with the first reason:
// the sender can fix it, and a 200 would tell it all went well. Otherwise
// b is returned as is and its rejections are counted by the gateway.
func (b Batch) Result() (Batch, error) {
	if len(b.Rejected) == 0 || len(b.Records) > 0 || len(b.Jobs) > 0 {
		return b, nil
	}
	msg := b.Rejected[0].Reason
	if n := len(b.Rejected) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more items rejected)", n)
	}
	return Batch{}, Errorf(ErrMalformed, "%s", msg)
}

// Connector is one configured inbound integration of a platform kind.
type Connector interface {
	// Verify checks authenticity over the raw bytes before any parsing.
	// Errors wrap ErrUnauthenticated.
	Verify(req *Request) error
	// Parse turns a verified body into records and fetch jobs. An item
	// that cannot become either is put in Batch.Rejected and the others are
	// still returned; an error refuses the whole delivery: a body that is
	// not a readable envelope, a limit exceeded, or every item rejected
	// (Batch.Result). Errors wrap ErrMalformed, ErrUnsupportedMediaType or
	// ErrTooLarge.
	Parse(req *Request) (Batch, error)
	// DefaultMapping is the platform's standard field names mapped to
	// canonical fields; a connector's config may extend or replace it.
	DefaultMapping() map[string]string
}

// Handshaker is implemented by platforms that verify the callback URL with
// a GET (Meta hub.challenge, LinkedIn challengeCode, X crc_token). It must
// not do I/O: platforms allow about 3 seconds.
type Handshaker interface {
	Handshake(req *Request) (Response, error)
}

// Fetcher is implemented by notify-only platforms. Fetch pulls the data for
// a job from the platform API. Errors wrapping ErrPermanent dead-letter the
// job at once; a *RetryAfterError asks for a later attempt; anything else is
// retried with backoff.
type Fetcher interface {
	Fetch(ctx context.Context, job FetchJob) ([]Record, error)
}

// RetryAfterError reports that the platform asked us to wait (HTTP 429).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// Env gives a connector what it may need at open time without knowing
// where it comes from.
type Env struct {
	// Secret resolves a named secret of the connector (already read from
	// env, file or store). ok is false when it is not configured.
	Secret func(name string) (value string, ok bool)
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// HTTPClient is used by fetchers; tests point BaseURL at a fake server.
	HTTPClient *http.Client
}
