package fault

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/consentgate/consentgate/internal/kafka/kafkatest"
	"github.com/consentgate/consentgate/internal/pipeline"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// Kafka stops mid-load and comes back on the same port: every request
// answered 200 reaches the topic (the ones taken while Kafka was away via
// the outbox), copies only with the same stable ce_id, nothing invented.
func TestKafkaStoppedMidLoadLosesNothing(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs})
	l := startLoad(func() string { return gw.URL }, "kstop", 8, 300, 20*time.Millisecond)
	defer l.finish()

	gwtest.WaitFor(t, 20*time.Second, "first records acknowledged", func() bool { return l.ackedCount() >= 40 })
	k.stop()
	before := l.ackedCount()
	gwtest.WaitFor(t, 30*time.Second, "requests acknowledged through the outbox while Kafka is down", func() bool {
		return gw.OutboxDepth() > 0 && l.ackedCount() >= before+16
	})
	gwtest.WaitFor(t, 10*time.Second, "the outbox depth gauge", func() bool { return outboxGauge(t, gw, "depth") > 0 })
	k.start()
	gwtest.WaitFor(t, 40*time.Second, "the outbox to drain", func() bool { return gw.OutboxDepth() == 0 })
	after := l.ackedCount()
	gwtest.WaitFor(t, 20*time.Second, "records acknowledged after the restart", func() bool { return l.ackedCount() >= after+40 })
	l.finish()

	got := readTopic(t, gw.Brokers, leadsTopic, l.acked, 40*time.Second)
	checkDelivered(t, l, got, "web")
	for st, n := range l.statuses {
		if st != http.StatusOK {
			t.Errorf("%d requests answered %d while the store was up: the outbox should have taken them (%v)", n, st, l.bodies)
		}
	}
	gwtest.WaitFor(t, 10*time.Second, "the depth gauge back to 0", func() bool { return outboxGauge(t, gw, "depth") == 0 })
}

// A withdrawal that arrives after the webhook was answered, but before the
// queued record left the outbox, wins: the record is dropped (with a
// decision) or has the fields that lost their purpose removed.
func TestWithdrawalWhileQueuedWins(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs})
	k.stop()

	both := map[string]any{"marketing_email": true, "sales_contact": true}
	posts := map[string][]byte{
		"q-drop":   gwtest.Lead("q-drop", map[string]any{"email": "drop.me@example.com", "first_name": "Dora"}, map[string]any{"marketing_email": true}),
		"q-redact": gwtest.Lead("q-redact", map[string]any{"email": "redact.me@example.com", "first_name": "Rita", "country": "DE"}, both),
		"q-keep":   gwtest.Lead("q-keep", map[string]any{"email": "keep.me@example.com", "first_name": "Karl"}, map[string]any{"marketing_email": true}),
	}
	for id, body := range posts {
		r := gw.Post("web", body, nil)
		if r.Status != http.StatusOK || r.Summary("queued") != 1 {
			t.Fatalf("%s with Kafka down: status %d summary %v, want 200 with 1 queued", id, r.Status, r.Body["summary"])
		}
	}

	ctx := context.Background()
	subjects := map[string]string{}
	// Decisions are stored while Kafka is still to answer; the outbox
	// completion stores them again as queued: one line per record.
	ds, err := gw.Store.ListDecisions(ctx, store.DecisionFilter{Connector: "web"})
	gwtest.Must(t, err)
	for _, d := range ds {
		if _, twice := subjects[d.EventID]; twice || d.Outcome != pipeline.OutcomeQueued {
			t.Errorf("decision %s of %s: outcome %q (seen before: %v), want one queued decision per record", d.ID, d.EventID, d.Outcome, twice)
		}
		subjects[d.EventID] = d.SubjectKey
	}
	now := time.Now().UTC()
	withdraw := func(event, purpose string) store.ConsentEntry {
		return store.ConsentEntry{ID: uuid.NewString(), SubjectKey: subjects[event], Purpose: purpose, Status: store.StatusWithdrawn,
			Method: store.MethodAPI, ObtainedAt: now, RecordedAt: now}
	}
	gwtest.Must(t, gw.Store.AppendConsent(ctx, []store.ConsentEntry{withdraw("q-drop", "marketing_email"), withdraw("q-redact", "sales_contact")}))

	// The relay keeps retrying the batch; once an attempt that began after
	// the withdrawal has failed, every later attempt rechecks with it.
	failures := func() int { return strings.Count(gw.Logs(), `"msg":"outbox relay"`) }
	seen := failures()
	gwtest.WaitFor(t, 30*time.Second, "two relay attempts after the withdrawal", func() bool { return failures() >= seen+2 })
	k.start()
	gwtest.WaitFor(t, 30*time.Second, "the outbox to drain", func() bool { return gw.OutboxDepth() == 0 })

	got := readTopic(t, gw.Brokers, leadsTopic, map[string]bool{"q-redact": true, "q-keep": true}, 20*time.Second)
	if len(got["q-drop"]) != 0 {
		t.Errorf("the record whose only purpose was withdrawn while it waited reached Kafka: %v", got["q-drop"][0].Fields)
	}
	for _, rec := range got["q-redact"] {
		if _, ok := rec.Fields["country"]; ok {
			t.Errorf("country was published although sales_contact was withdrawn while the record waited")
		}
		if rec.Fields["email"] != "redact.me@example.com" || rec.Fields["first_name"] != "Rita" {
			t.Errorf("fields still granted by marketing_email were lost: %v", keys(rec.Fields))
		}
	}
	if f := got["q-keep"][0].Fields; f["email"] != "keep.me@example.com" {
		t.Errorf("an unaffected queued record changed: %v", keys(f))
	}

	dropped, err := gw.Store.ListDecisions(ctx, store.DecisionFilter{Outcome: pipeline.OutcomeDropped})
	gwtest.Must(t, err)
	if len(dropped) != 1 || dropped[0].EventID != "q-drop" || dropped[0].Rules[0] != pipeline.RuleRecheckDropped {
		t.Errorf("want one dropped decision for q-drop with rule %s, got %+v", pipeline.RuleRecheckDropped, dropped)
	}
	fwd, err := gw.Store.ListDecisions(ctx, store.DecisionFilter{Outcome: pipeline.OutcomeForwarded})
	gwtest.Must(t, err)
	if len(fwd) != 1 || fwd[0].EventID != "q-redact" || fwd[0].Fields["country"] != "redact" {
		t.Errorf("want one decision for the rewritten q-redact with country redacted, got %+v", fwd)
	}
}

// When neither Kafka nor the database can keep a delivery the platform is
// told to retry (503 with Retry-After), nothing is forwarded, and the
// retry is processed anew once they are back — not taken for a duplicate.
func TestNothingCanKeepItAnswers503WithRetryAfter(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs})
	body := lead("evt-503", "retry.later@example.com", "Rene")

	k.stop()
	blockDatabase(t, gw.DB, true)
	r := gw.Post("web", body, nil)
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "unavailable" {
		t.Fatalf("status %d code %q, want 503 unavailable; body %s", r.Status, r.ErrorCode(), r.Raw)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want a number of seconds", r.Header.Get("Retry-After"))
	}
	if strings.Contains(r.Raw, "retry.later") {
		t.Errorf("the error echoes payload data: %s", r.Raw)
	}

	blockDatabase(t, gw.DB, false)
	k.start()
	gwtest.WaitFor(t, 30*time.Second, "the retry to be accepted", func() bool {
		r = gw.Post("web", body, nil)
		return r.Status == http.StatusOK
	})
	if r.Summary("forwarded")+r.Summary("queued") != 1 || r.Summary("duplicates") != 0 {
		t.Errorf("retry summary %v, want the record processed anew, not a duplicate", r.Body["summary"])
	}
	got := readTopic(t, gw.Brokers, leadsTopic, map[string]bool{"evt-503": true}, 20*time.Second)
	if n := len(got["evt-503"]); n != 1 {
		t.Errorf("%d copies of the record, want 1", n)
	}
	ds, err := gw.Store.ListDecisions(context.Background(), store.DecisionFilter{Connector: "web"})
	gwtest.Must(t, err)
	var outcomes []string
	for _, d := range ds {
		if d.EventID == "evt-503" {
			outcomes = append(outcomes, d.Outcome)
		}
	}
	if len(outcomes) != 1 || (outcomes[0] != pipeline.OutcomeForwarded && outcomes[0] != pipeline.OutcomeQueued) {
		t.Errorf("decisions of the record: %v, want one, forwarded or queued", outcomes)
	}
}

// outboxGauge reads consentgate_outbox{measure=…} from /metrics.
func outboxGauge(t testing.TB, gw *gwtest.Gateway, measure string) float64 {
	t.Helper()
	resp, err := gwtest.Client.Get(gw.URL + "/metrics")
	gwtest.Must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`consentgate_outbox\{measure="` + measure + `"\} ([0-9.e+-]+)`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A delivery whose statements were recorded but that nothing could keep
// (Kafka away, the outbox write refused) is answered 503; its retry finds
// the statements already in the ledger and records none twice, and the
// consent topic carries each statement under one id.
func TestRetryAfter503RecordsItsStatementsOnce(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs})
	db, err := sql.Open("postgres", gw.DB)
	gwtest.Must(t, err)
	defer db.Close()
	// Only the outbox refuses: the claim and the statements go through.
	_, err = db.ExecContext(t.Context(), `
		CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'outbox refused by the test'; END $$;
		CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox();`)
	gwtest.Must(t, err)

	const email = "twice.told@example.com"
	body := lead("evt-twice", email, "Tessa")
	k.stop()
	if r := gw.Post("web", body, nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("with Kafka away and the outbox refusing: %d %s, want 503", r.Status, r.Raw)
	}
	history := func() []any {
		l := gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": email}})
		if l.Status != http.StatusOK {
			t.Fatalf("lookup: %d %s", l.Status, l.Raw)
		}
		h, _ := l.Body["history"].([]any)
		return h
	}
	if n := len(history()); n != 1 {
		t.Fatalf("%d ledger entries after the refused attempt, want its one statement", n)
	}

	_, err = db.ExecContext(t.Context(), "DROP TRIGGER refuse_outbox ON outbox")
	gwtest.Must(t, err)
	k.start()
	var r gwtest.Response
	gwtest.WaitFor(t, 30*time.Second, "the retry to be accepted", func() bool {
		r = gw.Post("web", body, nil)
		return r.Status == http.StatusOK
	})
	if r.Summary("duplicates") != 0 {
		t.Fatalf("retry taken for a duplicate: %s", r.Raw)
	}
	if n := len(history()); n != 1 {
		t.Errorf("%d ledger entries after the retry, want the one statement kept once", n)
	}
	ids := map[string]bool{}
	for _, m := range kafkatest.ConsumeAll(t, gw.Brokers, "crm.consent.v1", 2*time.Second) {
		for _, h := range m.Headers {
			if h.Key == "ce_id" {
				ids[string(h.Value)] = true
			}
		}
	}
	if len(ids) != 1 {
		t.Errorf("consent events under %d ids, want 1: %v", len(ids), ids)
	}
}

// An erasure requested while a delivery of the same subject is under way
// (here held in its store call by a table lock) waits for it: the
// delivery is answered first, and the erasure then removes the statement
// the delivery recorded, instead of leaving it and the delivery's record
// to arrive after the erasure's event. A delivery that arrives during the
// erasure waits for it to end.
func TestErasureWaitsForTheSubjectsDeliveryUnderWay(t *testing.T) {
	gw := startGateway(t, gwtest.Options{Brokers: startBroker(t).Addrs})
	db, err := sql.Open("postgres", gw.DB)
	gwtest.Must(t, err)
	defer db.Close()
	lock, err := db.BeginTx(t.Context(), nil)
	gwtest.Must(t, err)
	defer lock.Rollback()
	// The claim waits for this lock; the erasure touches no seen_events.
	_, err = lock.ExecContext(t.Context(), "LOCK TABLE seen_events IN EXCLUSIVE MODE")
	gwtest.Must(t, err)

	const email = "gone.soon@example.com"
	answered := make(chan gwtest.Response, 1)
	go func() { answered <- gw.Post("web", lead("evt-gone", email, "Gina"), nil) }()
	gwtest.WaitFor(t, 10*time.Second, "the delivery to wait for the lock", func() bool {
		var n int
		err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n > 0
	})
	go func() {
		time.Sleep(time.Second) // long enough for an erasure that does not wait to be done
		_ = lock.Rollback()
	}()

	e := gw.API("POST", "/consent/erase", map[string]any{"subject": map[string]any{"email": email}})
	if e.Status != http.StatusOK {
		t.Fatalf("erase: %d %s", e.Status, e.Raw)
	}
	select {
	case r := <-answered:
		if r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
			t.Fatalf("the delivery: %d %s, want 200 with its record forwarded", r.Status, r.Raw)
		}
	default:
		t.Fatal("the erasure was answered while the subject's delivery was still under way")
	}
	if e.Body["entries_removed"] != 1.0 {
		t.Errorf("erasure removed %v entries, want the delivery's statement", e.Body["entries_removed"])
	}
	l := gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": email}})
	if h, _ := l.Body["history"].([]any); len(h) != 0 {
		t.Errorf("after the erasure the ledger holds %d entries of the subject", len(h))
	}

	// A delivery that arrives while an erasure runs (held here at its
	// tombstone, after the delete) waits for it and is then a submission
	// made after the erasure: answered after it, its statement kept.
	hold, err := db.BeginTx(t.Context(), nil)
	gwtest.Must(t, err)
	defer hold.Rollback()
	_, err = hold.ExecContext(t.Context(), "LOCK TABLE consent_tombstones IN EXCLUSIVE MODE")
	gwtest.Must(t, err)
	erased := make(chan gwtest.Response, 1)
	go func() {
		erased <- gw.API("POST", "/consent/erase", map[string]any{"subject": map[string]any{"email": email}})
	}()
	gwtest.WaitFor(t, 10*time.Second, "the erasure to wait for the lock", func() bool {
		var n int
		err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n > 0
	})
	go func() { answered <- gw.Post("web", lead("evt-after", email, "Gina"), nil) }()
	select {
	case r := <-answered:
		t.Fatalf("a delivery of the subject was answered (%d) while its erasure ran", r.Status)
	case <-time.After(time.Second):
	}
	_ = hold.Rollback()
	if e := <-erased; e.Status != http.StatusOK || e.Body["entries_removed"] != 0.0 {
		t.Fatalf("second erasure: %d %s, want 200 with nothing to remove", e.Status, e.Raw)
	}
	if r := <-answered; r.Status != http.StatusOK || r.Summary("forwarded") != 1 {
		t.Fatalf("the delivery after the erasure: %d %s", r.Status, r.Raw)
	}
	l = gw.API("POST", "/consent/lookup", map[string]any{"subject": map[string]any{"email": email}})
	if h, _ := l.Body["history"].([]any); len(h) != 1 {
		t.Errorf("the submission made after the erasure left %d entries, want its one statement", len(h))
	}
}

// A withdrawal recorded by phone while a lead keyed by e-mail that carries
// that number waited in the outbox wins as well: the relay's recheck reads
// the statements of the record's other identifiers, as its first filter did.
func TestWithdrawalByPhoneWhileQueuedWins(t *testing.T) {
	k := startBroker(t)
	gw := startGateway(t, gwtest.Options{Brokers: k.Addrs})
	k.stop()
	body := gwtest.Lead("q-phone", map[string]any{"email": "phone.out@example.com", "phone": "+49 151 11112222", "first_name": "Pia"},
		map[string]any{"marketing_email": true})
	if r := gw.Post("web", body, nil); r.Status != http.StatusOK || r.Summary("queued") != 1 {
		t.Fatalf("lead with Kafka down: %d %s, want 200 with 1 queued", r.Status, r.Raw)
	}
	failures := func() int { return strings.Count(gw.Logs(), `"msg":"outbox relay"`) }
	seen := failures()
	if w := gw.API("POST", "/consent/withdraw", map[string]any{"subject": map[string]any{"phone": "+4915111112222"}, "purpose": "marketing_email"}); w.Status != http.StatusCreated {
		t.Fatalf("withdraw by phone: %d %s", w.Status, w.Raw)
	}
	gwtest.WaitFor(t, 30*time.Second, "two relay attempts after the withdrawal", func() bool { return failures() >= seen+2 })
	k.start()
	gwtest.WaitFor(t, 30*time.Second, "the outbox to drain", func() bool { return gw.OutboxDepth() == 0 })
	for _, m := range kafkatest.ConsumeAll(t, gw.Brokers, leadsTopic, 2*time.Second) {
		if strings.Contains(string(m.Value), `"q-phone"`) {
			t.Errorf("the lead reached Kafka although its phone number withdrew its only purpose while it waited")
		}
	}
	dropped, err := gw.Store.ListDecisions(context.Background(), store.DecisionFilter{Outcome: pipeline.OutcomeDropped})
	gwtest.Must(t, err)
	if len(dropped) != 1 || dropped[0].EventID != "q-phone" || dropped[0].Rules[0] != pipeline.RuleRecheckDropped {
		t.Errorf("want one dropped decision for q-phone with rule %s, got %+v", pipeline.RuleRecheckDropped, dropped)
	}
}
