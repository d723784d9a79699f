// Command cgbench measures the gateway against the least a webhook-to-Kafka
// bridge must do.
//
//	cgbench baseline --listen 127.0.0.1:8099 --secret whsec_... --brokers 127.0.0.1:9092 --topic crm.leads.v1
//
// runs that least: a bare net/http handler that verifies the Standard
// Webhooks signature and produces the body with internal/kafka (same
// settings as the gateway), answering 200 after the acknowledgement.
//
//	cgbench load --url URL --secret whsec_... --concurrency 64 --duration 20s \
//	    --brokers 127.0.0.1:9092 --topic crm.leads.v1 [--pid PID] [--name label] [--json]
//
// posts signed generic lead payloads at a fixed concurrency for a fixed
// time, then counts the records of this run that reached the topic, and
// prints one table row: name, requests/s, p50, p99, errors (non-200), 200s,
// records on the topic, peak RSS of --pid.
//
//	cgbench report FILE...
//
// prints the JSON rows of several load runs as one table, with each
// "<mode> gateway" row's ratio to its "<mode> baseline" row and whether it
// meets the targets (≥ 0.7× baseline requests/s, p99 < 50 ms, no errors).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(ctx, os.Args[2:])
	case "baseline":
		err = runBaseline(ctx, os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cgbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cgbench load|baseline|report [flags]  (cgbench load -h for flags)")
	os.Exit(2)
}
