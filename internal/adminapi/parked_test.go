package adminapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/store"
)

// An operator sees the outbox messages Kafka refused for good (where they
// were going and why, never the record) and puts them back in the queue
// once the cause is fixed; the requeue is audited.
func TestParkedOutboxListAndRequeue(t *testing.T) {
	h := newAdminHarness(t, testKeyRing)
	ctx := t.Context()
	now := time.Now()
	msg := store.OutboxMessage{Topic: "crm.missing.v1", Key: []byte("sk_x"), Value: []byte(`{"email":"parked@example.com"}`),
		Headers: map[string]string{"ce_id": "cg_1"}, SubjectKey: "sk_x", CreatedAt: now}
	if err := h.Store.CompleteEvents(ctx, store.Completion{Outbox: []store.OutboxMessage{msg}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := h.Store.ClaimOutbox(ctx, 10, now, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := h.Store.ParkOutbox(ctx, []int64{claimed[0].ID}, "kafka: Unknown Topic Or Partition", now); err != nil {
		t.Fatal(err)
	}

	list := h.as(adminapi.RoleAuditor, http.MethodGet, "/outbox/parked", nil).Must(t, http.StatusOK)
	msgs, _ := list.Body["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("parked list: %s", list.Raw)
	}
	m := msgs[0].(map[string]any)
	if m["topic"] != "crm.missing.v1" || !strings.Contains(m["reason"].(string), "Unknown Topic") {
		t.Fatalf("parked message %v, want its topic and reason", m)
	}
	if strings.Contains(list.Raw, "parked@example.com") || strings.Contains(list.Raw, "sk_x") {
		t.Fatalf("the list shows the record or its key: %s", list.Raw)
	}

	h.as(adminapi.RoleAuditor, http.MethodPost, "/outbox/parked/requeue", map[string]any{}).Must(t, http.StatusForbidden)
	h.as(adminapi.RoleMarketer, http.MethodPost, "/outbox/parked/requeue", map[string]any{"ids": []int{0}}).Must(t, http.StatusBadRequest)
	r := h.as(adminapi.RoleMarketer, http.MethodPost, "/outbox/parked/requeue", map[string]any{}).Must(t, http.StatusOK)
	if r.Body["requeued"] != float64(1) {
		t.Fatalf("requeue: %s", r.Raw)
	}
	if n, err := h.Store.DeadOutbox(ctx); err != nil || n != 0 {
		t.Fatalf("parked after requeue: %d %v", n, err)
	}
	if len(h.audit("outbox.requeue")) != 1 {
		t.Fatal("the requeue is not in the admin audit log")
	}
}
