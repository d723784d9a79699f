// Command cgbroker runs the embedded development broker (internal/broker)
// as its own process, so benchmarks and fault tests can kill it and start
// it again on the same port and data dir while a gateway keeps running.
//
//	cgbroker --listen 127.0.0.1:9092 --data-dir ./data/kafka --partitions 3
//
// It prints "broker ready on ADDR" once clients can connect, and exits 0
// on SIGINT/SIGTERM after saving its state.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/consentgate/consentgate/internal/broker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cgbroker:", err)
		os.Exit(1)
	}
}

func run() error {
	def := broker.DefaultConfig()
	cfg := def
	var topics string
	flag.StringVar(&cfg.Addr, "listen", def.Addr, "host:port to listen on and advertise (port 0: any free port)")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory to persist topics in (empty: memory only)")
	flag.IntVar(&cfg.Partitions, "partitions", def.Partitions, "partitions of seeded and auto-created topics")
	flag.StringVar(&topics, "topics", "", "comma-separated topics to create at start")
	flag.Int64Var(&cfg.RetentionMs, "retention-ms", def.RetentionMs, "record retention in milliseconds (-1: forever)")
	flag.Int64Var(&cfg.RetentionBytes, "retention-bytes", def.RetentionBytes, "cap per partition in bytes (-1: none)")
	flag.Parse()
	if topics != "" {
		cfg.Topics = strings.Split(topics, ",")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := broker.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("broker ready on %s\n", strings.Join(b.Addrs(), ","))
	<-ctx.Done()
	return b.Close()
}
