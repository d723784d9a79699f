package main

import (
	"bytes"
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
