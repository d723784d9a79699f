package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestReportComparesEachGatewayWithItsBaseline(t *testing.T) {
	in := strings.Join([]string{
		"name requests/s ...", // table lines around the JSON are skipped
		`{"name":"dev baseline","concurrency":64,"requests_per_s":1000,"p99_ms":20,"ok_200":100,"records_on_topic":100}`,
		`{"name":"dev gateway","concurrency":64,"requests_per_s":800,"p99_ms":30,"ok_200":80,"records_on_topic":80}`,
		`{"name":"serve baseline","concurrency":64,"requests_per_s":1000,"p99_ms":20,"ok_200":100,"records_on_topic":100}`,
		`{"name":"serve gateway","concurrency":64,"requests_per_s":500,"p99_ms":60,"ok_200":50,"records_on_topic":49}`,
	}, "\n")
	rows, err := readRows(strings.NewReader(in))
	if err != nil || len(rows) != 4 {
		t.Fatalf("readRows: %d rows, %v", len(rows), err)
	}
	var out bytes.Buffer
	printReport(&out, rows)
	lines := strings.Split(out.String(), "\n")
	dev, serve := lines[2], lines[4]
	if !strings.Contains(dev, "0.80") || !strings.Contains(dev, "meets targets") {
		t.Errorf("dev gateway line: %q; want ratio 0.80 and meets targets", dev)
	}
	for _, want := range []string{"0.50", "below 0.7× baseline", "p99 ≥ 50 ms", "records ≠ 200s"} {
		if !strings.Contains(serve, want) {
			t.Errorf("serve gateway line: %q; want %q", serve, want)
		}
	}
}

func TestReportGivesTheMedianOfRounds(t *testing.T) {
	row := func(name string, rps, p99 float64) string {
		return fmt.Sprintf(`{"name":%q,"concurrency":64,"requests_per_s":%g,"p99_ms":%g,"ok_200":10,"records_on_topic":10}`, name, rps, p99)
	}
	// Three dev rounds at 0.60, 0.75 and 0.72 × baseline: one slow round
	// does not decide; serve ran once and gets no summary line.
	in := strings.Join([]string{
		row("dev gateway", 600, 40), row("dev baseline", 1000, 10),
		row("dev#2 baseline", 1000, 10), row("dev#2 gateway", 750, 30),
		row("dev#3 gateway", 720, 35), row("dev#3 baseline", 1000, 10),
		row("serve gateway", 500, 20), row("serve baseline", 1000, 10),
	}, "\n")
	rows, err := readRows(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printReport(&out, rows)
	got := out.String()
	want := "dev: 3 rounds, ×baseline median 0.72 (0.60–0.75), gateway p99 median 35.00 ms: meets the throughput target"
	if !strings.Contains(got, want) {
		t.Errorf("report:\n%s\nwant the line %q", got, want)
	}
	if strings.Contains(got, "serve: ") {
		t.Errorf("report:\n%s\nwant no summary for serve's single round", got)
	}
}
