package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type loadFlags struct {
	url, secret, brokers, topic, name string
	concurrency, pid                  int
	duration, quiet, timeout          time.Duration
	json, header                      bool
}

// row is one line of the results table.
type row struct {
	Name        string  `json:"name"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	RPS         float64 `json:"requests_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	// The mean is what a closed loop's rate follows (connections / mean
	// latency), so the tail beyond p99 shows up there and not in p99.
	MeanMs     float64 `json:"mean_ms"`
	P90ms      float64 `json:"p90_ms"`
	P999ms     float64 `json:"p999_ms"`
	MaxMs      float64 `json:"max_ms"`
	Errors     int     `json:"errors"` // every answer but 200, and failed requests
	NetErrors  int     `json:"net_errors"`
	OK         int     `json:"ok_200"`
	Records    int     `json:"records_on_topic"`
	Distinct   int     `json:"distinct_ids_on_topic"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	// CPUusPerReq is the CPU time (user+system) --pid spent during the
	// run per request: unlike requests/s it hardly depends on what else
	// the machine runs.
	CPUusPerReq float64        `json:"cpu_us_per_request,omitempty"`
	Statuses    map[string]int `json:"statuses"`
}

func runLoad(ctx context.Context, args []string) error {
	var f loadFlags
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	fs.StringVar(&f.url, "url", "", "webhook URL to POST to (required)")
	fs.StringVar(&f.secret, "secret", "", "Standard Webhooks secret, whsec_... (required)")
	fs.IntVar(&f.concurrency, "concurrency", 64, "requests in flight at all times")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "how long to send")
	fs.StringVar(&f.brokers, "brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap addresses (empty: skip counting)")
	fs.StringVar(&f.topic, "topic", "crm.leads.v1", "topic the records should reach")
	fs.IntVar(&f.pid, "pid", 0, "process whose peak RSS (VmHWM) to report")
	fs.StringVar(&f.name, "name", "", "label for the table row (default: the URL)")
	fs.DurationVar(&f.quiet, "quiet", 2*time.Second, "counting stops once the topic is this quiet")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.BoolVar(&f.json, "json", false, "also print the row as JSON")
	fs.BoolVar(&f.header, "header", true, "print the table header")
	_ = fs.Parse(args)
	if f.url == "" || f.secret == "" || f.concurrency < 1 || f.duration <= 0 {
		return errors.New("load: --url and --secret are required; --concurrency and --duration must be positive")
	}
	if f.name == "" {
		f.name = f.url
	}
	s, err := newSigner(f.secret)
	if err != nil {
		return err
	}

	var brokers []string
	var start map[int]int64
	if f.brokers != "" {
		brokers = strings.Split(f.brokers, ",")
		// Only records past these offsets can be this run's.
		if start, err = endOffsets(ctx, brokers, f.topic); err != nil {
			return fmt.Errorf("load: read start offsets of %s: %w", f.topic, err)
		}
	}

	run := runID()
	var cpu0 float64
	if f.pid > 0 {
		cpu0, _ = cpuSeconds(f.pid)
	}
	res, err := drive(ctx, f, s, run)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var cpu1 float64
	if f.pid > 0 {
		cpu1, _ = cpuSeconds(f.pid)
	}

	r := row{
		Name: f.name, Concurrency: f.concurrency, Seconds: res.wall.Seconds(),
		Requests: len(res.lat), Errors: res.requests() - res.ok, NetErrors: res.netErr,
		OK: res.ok, Statuses: res.statuses,
	}
	r.RPS = float64(r.Requests) / res.wall.Seconds()
	st := summarize(res.lat)
	r.P50ms, r.P99ms = ms(st.p50), ms(st.p99)
	r.MeanMs, r.P90ms, r.P999ms, r.MaxMs = ms(st.mean), ms(st.p90), ms(st.p999), ms(st.max)
	if brokers != nil {
		r.Records, r.Distinct, err = countRun(context.WithoutCancel(ctx), brokers, f.topic, start, run, f.quiet)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cgbench: counting records:", err)
		}
	}
	if f.pid > 0 && r.Requests > 0 && cpu1 > cpu0 {
		r.CPUusPerReq = (cpu1 - cpu0) * 1e6 / float64(r.Requests)
	}
	if f.pid > 0 {
		if r.PeakRSSMiB, err = peakRSS(f.pid); err != nil {
			fmt.Fprintln(os.Stderr, "cgbench:", err)
		}
	}
	printRow(os.Stdout, r, f.header)
	if f.json {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
	return nil
}

type results struct {
	lat      []time.Duration
	ok       int
	netErr   int
	statuses map[string]int
	wall     time.Duration
}

func (r *results) requests() int { return len(r.lat) }

// drive keeps exactly f.concurrency requests in flight until the duration
// is over; each worker waits for its answer before sending the next, so
// the offered load follows the server's speed (closed loop).
func drive(ctx context.Context, f loadFlags, s *signer, run string) (*results, error) {
	clients := make([]*client, f.concurrency)
	for i := range clients {
		c, err := newClient(f.url, s, f.timeout)
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}

	var seq atomic.Int64
	var mu sync.Mutex
	total := &results{statuses: map[string]int{}}
	begin := time.Now()
	end := begin.Add(f.duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			defer c.close()
			mine := results{statuses: map[string]int{}}
			lat := make([]time.Duration, 0, 4096)
			prefix := "cgb-" + run + "-"
			var id []byte
			for ctx.Err() == nil && time.Now().Before(end) {
				n := seq.Add(1)
				id = strconv.AppendInt(append(id[:0], prefix...), n, 10)
				status, d, err := c.post(ctx, string(id), n)
				lat = append(lat, d)
				switch {
				case err != nil:
					mine.netErr++
					mine.statuses["error"]++
				case status == http.StatusOK:
					mine.ok++
					mine.statuses["200"]++
				default:
					mine.statuses[strconv.Itoa(status)]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.lat = append(total.lat, lat...)
			total.ok += mine.ok
			total.netErr += mine.netErr
			for k, v := range mine.statuses {
				total.statuses[k] += v
			}
		})
	}
	wg.Wait()
	total.wall = time.Since(begin)
	return total, nil
}

// appendPayload appends a generic lead with consent for e-mail marketing,
// so a gateway with a sensible policy forwards it (without the
// analytics-only fields).
func appendPayload(b []byte, id string, n int64, now time.Time) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, id)
	b = append(b, `,"type":"lead.created","occurred_at":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","lead":{"email":"u`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `@example.com","phone":"+4915112345678","first_name":"Ana","last_name":"Muster","company":"ACME","country":"DE"},`+
		`"consent":{"marketing_email":true,"analytics":false}}`...)
	return b
}

func runID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type stats struct{ mean, p50, p90, p99, p999, max time.Duration }

// summarize uses nearest-rank percentiles: the value at or below which p of
// the samples fall, always an observed latency.
func summarize(lat []time.Duration) stats {
	if len(lat) == 0 {
		return stats{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return stats{
		mean: sum / time.Duration(len(s)),
		p50:  rank(0.50), p90: rank(0.90), p99: rank(0.99), p999: rank(0.999),
		max: s[len(s)-1],
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func printRow(w io.Writer, r row, header bool) {
	const format = "%-24s %12s %9s %9s %8s %9s %9s %9s\n"
	if header {
		fmt.Fprintf(w, format, "name", "requests/s", "p50 ms", "p99 ms", "errors", "200s", "records", "rss MiB")
	}
	rss := "-"
	if r.PeakRSSMiB > 0 {
		rss = fmt.Sprintf("%.1f", r.PeakRSSMiB)
	}
	fmt.Fprintf(w, format, r.Name,
		fmt.Sprintf("%.0f", r.RPS), fmt.Sprintf("%.2f", r.P50ms), fmt.Sprintf("%.2f", r.P99ms),
		strconv.Itoa(r.Errors), strconv.Itoa(r.OK), strconv.Itoa(r.Records), rss)
}

// peakRSS reads VmHWM, the resident-set high-water mark since the process
// started, from /proc (Linux only).
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("--pid %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("--pid %d: VmHWM: %w", pid, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("--pid %d: no VmHWM in /proc/%d/status", pid, pid)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// cpuSeconds reads the user+system CPU time of pid from /proc (Linux only).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("--pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces: count from its ")".
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("--pid %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("--pid %d: unreadable /proc stat times", pid)
	}
	return (utime + stime) / clockTicks, nil
}
