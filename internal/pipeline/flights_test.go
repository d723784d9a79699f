package pipeline

import (
	"context"
	"testing"
	"time"
)

func TestFlightsWaitForDeliveriesUnderWayOnly(t *testing.T) {
	var f flights
	if err := f.wait(t.Context(), "sk-a"); err != nil {
		t.Fatalf("nothing under way: %v", err)
	}
	end := f.start([]string{"sk-a", "sk-b"})
	waited := make(chan error, 1)
	go func() { waited <- f.wait(t.Context(), "sk-a") }()
	select {
	case err := <-waited:
		t.Fatalf("wait returned (%v) while a delivery of the subject was under way", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := f.wait(t.Context(), "sk-other"); err != nil {
		t.Fatalf("another subject waited: %v", err)
	}
	later := f.start([]string{"sk-a"}) // begins after the wait did
	end()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return once the delivery under way had ended (it must not wait for later ones)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := f.wait(ctx, "sk-a"); err == nil {
		t.Fatal("wait on a delivery that does not end returned without error")
	}
	later()
	if len(f.by) != 0 {
		t.Fatalf("ended deliveries still registered: %v", f.by)
	}
}
