package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Targets of the benchmark (issue 2, item 12).
const (
	targetRatio = 0.7  // gateway requests/s ÷ baseline requests/s, at least
	targetP99ms = 50.0 // gateway p99 at 64 connections, below
)

// runReport prints the rows that `load --json` wrote (one JSON object a
// line, in the files named) as one table. A row named "<mode> gateway" is
// compared with the row "<mode> baseline": its ratio of requests/s and
// whether it meets the targets. Rounds of a mode after the first are named
// "<mode>#<n>" (BENCH_ROUNDS); with more than one, a line per mode gives
// the median ratio, which one slow minute of a shared machine cannot
// decide on its own.
func runReport(args []string) error {
	if len(args) == 0 {
		return errors.New("report: name the files holding `cgbench load --json` output")
	}
	var rows []row
	for _, name := range args {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		rs, err := readRows(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		rows = append(rows, rs...)
	}
	printReport(os.Stdout, rows)
	return nil
}

// readRows picks the JSON lines out of load's output (the table lines
// around them are skipped).
func readRows(r io.Reader) ([]row, error) {
	var out []row
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var x row
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, sc.Err()
}

func printReport(w io.Writer, rows []row) {
	type round struct{ ratio, p99 float64 }
	var modes []string
	rounds := map[string][]round{}
	byName := map[string]row{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	const format = "%-16s %6s %11s %8s %8s %7s %8s %8s %8s %9s %9s  %s\n"
	fmt.Fprintf(w, format, "name", "conns", "requests/s", "p50 ms", "p99 ms", "errors", "200s", "records", "rss MiB", "cpu µs/req", "×baseline", "verdict")
	for _, r := range rows {
		rss := "-"
		if r.PeakRSSMiB > 0 {
			rss = fmt.Sprintf("%.1f", r.PeakRSSMiB)
		}
		cpu := "-"
		if r.CPUusPerReq > 0 {
			cpu = fmt.Sprintf("%.0f", r.CPUusPerReq)
		}
		ratio, verdict := "", ""
		if mode, isGW := strings.CutSuffix(r.Name, " gateway"); isGW {
			if b, has := byName[mode+" baseline"]; has && b.RPS > 0 {
				q := r.RPS / b.RPS
				ratio = fmt.Sprintf("%.2f", q)
				verdict = judge(r, q)
				base, _, _ := strings.Cut(mode, "#")
				if rounds[base] == nil {
					modes = append(modes, base)
				}
				rounds[base] = append(rounds[base], round{q, r.P99ms})
			}
		}
		if r.Records != r.OK {
			verdict = strings.TrimPrefix(verdict+"; records ≠ 200s", "; ")
		}
		fmt.Fprintf(w, format, r.Name, fmt.Sprint(r.Concurrency), fmt.Sprintf("%.0f", r.RPS),
			fmt.Sprintf("%.2f", r.P50ms), fmt.Sprintf("%.2f", r.P99ms), fmt.Sprint(r.Errors),
			fmt.Sprint(r.OK), fmt.Sprint(r.Records), rss, cpu, ratio, verdict)
	}
	for _, m := range modes {
		rs := rounds[m]
		if len(rs) < 2 {
			continue
		}
		ratios, p99s := make([]float64, len(rs)), make([]float64, len(rs))
		for i, x := range rs {
			ratios[i], p99s[i] = x.ratio, x.p99
		}
		med := median(ratios)
		verdict := "meets the throughput target"
		if med < targetRatio {
			verdict = fmt.Sprintf("below %.1f× baseline", targetRatio)
		}
		fmt.Fprintf(w, "%s: %d rounds, ×baseline median %.2f (%.2f–%.2f), gateway p99 median %.2f ms: %s\n",
			m, len(rs), med, slices.Min(ratios), slices.Max(ratios), median(p99s), verdict)
	}
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func judge(r row, ratio float64) string {
	var miss []string
	if ratio < targetRatio {
		miss = append(miss, fmt.Sprintf("below %.1f× baseline", targetRatio))
	}
	if r.P99ms >= targetP99ms {
		miss = append(miss, fmt.Sprintf("p99 ≥ %.0f ms", targetP99ms))
	}
	if r.Errors > 0 {
		miss = append(miss, "errors")
	}
	if len(miss) == 0 {
		return "meets targets"
	}
	return strings.Join(miss, ", ")
}
