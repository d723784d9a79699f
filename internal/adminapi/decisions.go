package adminapi

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/store"
)

// decisionRoutes: the decision log (audit lines, never a field value).
var decisionRoutes = []Route{
	{http.MethodGet, "/decisions", readers, func(a *API) gin.HandlerFunc { return a.listDecisions }},
	{http.MethodGet, "/decisions/stats", readers, func(a *API) gin.HandlerFunc { return a.decisionStats }},
}

// decisionOutcomes are the outcomes the pipeline records, in chart order.
var decisionOutcomes = []string{pipeline.OutcomeForwarded, pipeline.OutcomeQueued, pipeline.OutcomeDropped, pipeline.OutcomeTest}

const (
	maxDecisionsPage = 1000
	// statsScan bounds how many decisions one stats request reads; the
	// answer says "truncated" when the range holds more.
	statsScan    = 100_000
	maxBuckets   = 1000
	minBucket    = time.Minute
	defaultRange = 24 * time.Hour
)

// decisionFilter reads connector, outcome, since and until.
func decisionFilter(c *gin.Context, errs fieldErrors) store.DecisionFilter {
	f := store.DecisionFilter{Connector: c.Query("connector"), Outcome: c.Query("outcome")}
	if len(f.Connector) > 200 {
		errs.add("connector", "must be at most 200 characters")
	}
	if f.Outcome != "" && !slices.Contains(decisionOutcomes, f.Outcome) {
		errs.add("outcome", "must be one of: forwarded, queued, dropped, test")
	}
	f.Since = queryTime(c, "since", errs)
	f.Until = queryTime(c, "until", errs)
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		errs.add("until", "must be after since")
	}
	return f
}

func queryTime(c *gin.Context, name string, errs fieldErrors) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		errs.add(name, "must be an RFC 3339 time, e.g. 2026-11-20T10:00:00Z")
	}
	return t.UTC()
}

// queryLimit reads ?limit= (1..max, default def).
func queryLimit(c *gin.Context, def, max int) (int, fieldErrors) {
	errs := fieldErrors{}
	s := c.Query("limit")
	if s == "" {
		return def, errs
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		errs.add("limit", "must be a whole number from 1 to "+strconv.Itoa(max))
		return def, errs
	}
	return n, errs
}

func (a *API) listDecisions(c *gin.Context) {
	limit, errs := queryLimit(c, 100, maxDecisionsPage)
	f := decisionFilter(c, errs)
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	f.Limit = limit
	ds, err := a.d.Store.ListDecisions(c.Request.Context(), f)
	if err != nil {
		a.internalError(c, "list decisions", err)
		return
	}
	if ds == nil {
		ds = []store.Decision{}
	}
	// More may exist when the page is full: ask again with until set to
	// the oldest "at" returned.
	c.JSON(http.StatusOK, gin.H{"decisions": ds, "more": len(ds) == limit})
}

type statsBucket struct {
	Start  time.Time      `json:"start"`
	Counts map[string]int `json:"counts"`
}

// decisionStats counts decisions per outcome per time bucket, for the
// console's chart. Buckets are aligned to multiples of the bucket length
// (UTC), the first one holding since; every bucket lists every outcome.
func (a *API) decisionStats(c *gin.Context) {
	errs := fieldErrors{}
	f := decisionFilter(c, errs)
	bucket := time.Hour
	if s := c.Query("bucket"); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			errs.add("bucket", "must be a duration such as 5m, 1h or 24h")
		case d < minBucket:
			errs.add("bucket", "must be at least 1m")
		default:
			bucket = d
		}
	}
	now := a.d.Now().UTC()
	if f.Until.IsZero() {
		f.Until = now
	}
	if f.Since.IsZero() {
		f.Since = f.Until.Add(-defaultRange)
	}
	if !f.Since.Before(f.Until) {
		errs.add("since", "must be before until (default: now)")
		writeInvalidFields(c, errs)
		return
	}
	start := f.Since.Truncate(bucket)
	n := int((f.Until.Sub(start) + bucket - 1) / bucket)
	if !errs.has("bucket") && n > maxBuckets {
		errs.add("bucket", "too small for the range: at most 1000 buckets; widen the bucket or narrow since/until")
	}
	if len(errs) > 0 {
		writeInvalidFields(c, errs)
		return
	}
	f.Limit = statsScan
	ds, err := a.d.Store.ListDecisions(c.Request.Context(), f)
	if err != nil {
		a.internalError(c, "list decisions", err)
		return
	}
	outcomes := slices.Clone(decisionOutcomes)
	for _, d := range ds {
		if !slices.Contains(outcomes, d.Outcome) {
			outcomes = append(outcomes, d.Outcome)
		}
	}
	buckets := make([]statsBucket, n)
	totals := map[string]int{}
	for i := range buckets {
		buckets[i] = statsBucket{Start: start.Add(time.Duration(i) * bucket), Counts: map[string]int{}}
		for _, o := range outcomes {
			buckets[i].Counts[o] = 0
		}
	}
	for _, o := range outcomes {
		totals[o] = 0
	}
	for _, d := range ds {
		i := int(d.At.Sub(start) / bucket)
		if i < 0 || i >= n {
			continue
		}
		buckets[i].Counts[d.Outcome]++
		totals[d.Outcome]++
	}
	c.JSON(http.StatusOK, gin.H{
		"since": f.Since, "until": f.Until, "bucket": bucket.String(), "bucket_seconds": int64(bucket / time.Second),
		"outcomes": outcomes, "buckets": buckets, "totals": totals, "truncated": len(ds) == statsScan,
	})
}
