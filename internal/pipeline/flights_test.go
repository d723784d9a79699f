package pipeline

import (
	"context"
	"testing"
	"time"
)

// An erasure waits for the subject's deliveries under way, not for later
// ones or other subjects', and holds new deliveries of the subject back
// until it is done.
func TestFlightsOrderDeliveriesAndErasures(t *testing.T) {
	var f flights
	ctx := t.Context()
	open, err := f.erase(ctx, "sk-a")
	if err != nil {
		t.Fatalf("nothing under way: %v", err)
	}
	open()

	end, err := f.start(ctx, []string{"sk-a", "sk-b"})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		open func()
		err  error
	}
	erased := make(chan result, 1)
	go func() { o, err := f.erase(ctx, "sk-a"); erased <- result{o, err} }()
	select {
	case r := <-erased:
		t.Fatalf("erasure went ahead (%v) while a delivery of the subject was under way", r.err)
	case <-time.After(50 * time.Millisecond):
	}
	other, err := f.erase(ctx, "sk-other")
	if err != nil {
		t.Fatalf("an erasure of another subject waited: %v", err)
	}
	other()
	end()
	var r result
	select {
	case r = <-erased:
		if r.err != nil {
			t.Fatalf("erase: %v", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("erasure did not go ahead once the delivery under way had ended")
	}

	// While the erasure runs, a new delivery of the subject waits for it.
	started := make(chan func(), 1)
	go func() {
		end, err := f.start(ctx, []string{"sk-a"})
		if err != nil {
			t.Error(err)
		}
		started <- end
	}()
	select {
	case <-started:
		t.Fatal("a delivery started during the erasure of its subject")
	case <-time.After(50 * time.Millisecond):
	}
	if end, err := f.start(ctx, []string{"sk-b"}); err != nil {
		t.Fatalf("a delivery of another subject waited: %v", err)
	} else {
		end()
	}
	r.open()
	select {
	case end := <-started:
		end()
	case <-time.After(5 * time.Second):
		t.Fatal("the delivery did not start once the erasure was done")
	}

	// Waiting ends with its context.
	end, _ = f.start(ctx, []string{"sk-a"})
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	open, err = f.erase(short, "sk-a")
	if err == nil {
		t.Fatal("erase on a delivery that does not end returned without error")
	}
	blocked, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if _, err := f.start(blocked, []string{"sk-a"}); err == nil {
		t.Fatal("a delivery started while the erasure that gave up waiting still held the subject")
	}
	open()
	end()
	if len(f.under) != 0 || len(f.erasing) != 0 {
		t.Fatalf("state left behind: deliveries %v, erasures %v", f.under, f.erasing)
	}
}

// Two erasures of one subject share its closure: the first to end does
// not open the subject under the second. A delivery held back too long is
// refused instead of waiting on.
func TestFlightsErasuresShareTheClosure(t *testing.T) {
	f := flights{hold: 50 * time.Millisecond}
	ctx := t.Context()
	first, err := f.erase(ctx, "sk-a")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.erase(ctx, "sk-a")
	if err != nil {
		t.Fatal(err)
	}
	first()
	first() // a second call changes nothing
	if _, err := f.start(ctx, []string{"sk-a"}); err == nil {
		t.Fatal("a delivery started while the second erasure of its subject ran")
	}
	second()
	end, err := f.start(ctx, []string{"sk-a"})
	if err != nil {
		t.Fatalf("delivery after both erasures: %v", err)
	}
	end()
	if len(f.under) != 0 || len(f.erasing) != 0 {
		t.Fatalf("state left behind: deliveries %v, erasures %v", f.under, f.erasing)
	}
}
