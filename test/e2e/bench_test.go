package e2e

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/testutil/gwtest"
)

// The webhook path in one process: signed POST, claim, ledger, filter,
// Kafka produce (kfake, acks=all), audit. cgbench (make bench) measures
// the processes apart on a loaded machine, where requests/s move by tens
// of percent within minutes; these benchmarks give the steadier figures a
// change is judged by first: allocations and bytes per request (of the
// whole process: gateway, in-process broker and client together, so only
// differences between builds mean something) and CPU time per request.
//
//	go test ./test/e2e -run '^$' -bench Webhook -benchmem -benchtime 20000x

// BenchmarkWebhookSQLite is dev mode's store.
func BenchmarkWebhookSQLite(b *testing.B) {
	benchWebhook(b, startGateway(b, gwtest.Options{SQLite: true, DiscardLogs: true}))
}

// BenchmarkWebhookPostgreSQL is serve mode's store (TEST_DATABASE_URL).
func BenchmarkWebhookPostgreSQL(b *testing.B) {
	benchWebhook(b, startGateway(b, gwtest.Options{DiscardLogs: true}))
}

// benchWebhook posts distinct leads from 64 concurrent clients (as make
// bench does) and fails on any answer but 200.
func benchWebhook(b *testing.B, gw *gwtest.Gateway) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	url := gw.URL + "/webhooks/web"
	post := func(n int64) error {
		body := []byte(`{"id":"bench-` + strconv.FormatInt(n, 10) + `","occurred_at":"` + time.Now().UTC().Format(time.RFC3339) +
			`","lead":{"email":"u` + strconv.FormatInt(n, 10) + `@example.com","phone":"+4915112345678","first_name":"Ana",` +
			`"last_name":"Muster","country":"DE"},"consent":{"marketing_email":true,"sales_contact":false}}`)
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", gwtest.SignHMAC(testSecret, body))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return &statusError{resp.StatusCode, string(raw)}
		}
		return nil
	}
	var seq atomic.Int64
	for range 200 { // connections, prepared statements, topic metadata
		if err := post(seq.Add(1)); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	cpu0 := processCPU(b)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := post(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.status) + ": " + e.body }

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
