package ingest

import (
	"errors"
	"testing"
)

func TestBatchResult(t *testing.T) {
	bad := Errorf(ErrMalformed, "entry[0].changes[1].value.leadgen_id is missing")
	t.Run("a rejection beside a usable item is kept, not refused", func(t *testing.T) {
		var b Batch
		b.Jobs = append(b.Jobs, FetchJob{EventID: "1", Ref: "1"})
		b.Reject(1, bad)
		got, err := b.Result()
		if err != nil {
			t.Fatalf("Result: %v", err)
		}
		want := Rejection{Index: 1, Reason: "entry[0].changes[1].value.leadgen_id is missing"}
		if len(got.Jobs) != 1 || len(got.Rejected) != 1 || got.Rejected[0] != want {
			t.Fatalf("Result = %+v, want the job and %+v", got, want)
		}
	})
	t.Run("nothing usable is refused with the first reason", func(t *testing.T) {
		var b Batch
		b.Ignored = 1
		b.Reject(0, bad)
		b.Reject(2, Errorf(ErrMalformed, "entry[1] is not an object"))
		_, err := b.Result()
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("Result error = %v, want ErrMalformed", err)
		}
		want := "malformed request: entry[0].changes[1].value.leadgen_id is missing (and 1 more items rejected)"
		if err.Error() != want {
			t.Fatalf("Result error = %q, want %q", err, want)
		}
	})
	t.Run("no rejection, nothing usable is a plain empty batch", func(t *testing.T) {
		if _, err := (Batch{Ignored: 3}).Result(); err != nil {
			t.Fatalf("Result: %v", err)
		}
	})
}
