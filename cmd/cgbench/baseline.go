package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/consentgate/consentgate/internal/kafka"
)

const maxBody = 1 << 20 // the gateway's default limit

var jsonType = []byte("application/json")

func runBaseline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:8099", "address to serve on")
	secret := fs.String("secret", "", "Standard Webhooks secret, whsec_...")
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap addresses")
	topic := fs.String("topic", "crm.leads.v1", "topic to produce to")
	def := kafka.DefaultConfig()
	linger := fs.Duration("linger", def.Linger, "producer linger (gateway default)")
	batch := fs.Int("batch-size", def.BatchSize, "producer batch size (gateway default)")
	_ = fs.Parse(args)

	s, err := newSigner(*secret)
	if err != nil {
		return err
	}
	cfg := def
	cfg.Brokers = strings.Split(*brokers, ",")
	cfg.Linger, cfg.BatchSize = *linger, *batch
	cfg.ClientID = "cgbench-baseline"
	p, err := kafka.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Ping(ctx); err != nil {
		return err
	}
	if err := p.EnsureTopics(ctx, []string{*topic}, 0); err != nil {
		return err
	}
	w := rawWriter(cfg)
	defer w.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	srv := &http.Server{
		Handler:           baselineHandler(s, w, *topic, time.Now),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Printf("baseline ready on http://%s (topic %s, brokers %s)\n", ln.Addr(), *topic, *brokers)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return w.Close()
}

// rawWriter is kafka-go used as a hand-wired bridge would use it: one
// shared Writer, synchronous writes, kafka-go's own batch timer as the
// linger, and otherwise the gateway's settings (acks=all, murmur2 keys,
// batch size, timeouts). The baseline does not produce through
// internal/kafka, so changes to the gateway's producer cannot move the
// figure the gateway is measured against. (internal/kafka's Producer is
// used above only for the ping and the topic.)
func rawWriter(cfg kafka.Config) *kafkago.Writer {
	linger := cfg.Linger
	if linger == 0 {
		linger = time.Nanosecond // kafka-go reads 0 as its 1s default
	}
	return &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Balancer:     kafkago.Murmur2Balancer{},
		RequiredAcks: kafkago.RequireAll,
		BatchSize:    cfg.BatchSize,
		BatchTimeout: linger,
		WriteTimeout: cfg.WriteTimeout,
		ReadTimeout:  cfg.WriteTimeout,
		Transport:    &kafkago.Transport{ClientID: cfg.ClientID},
	}
}

// baselineHandler is the least a bridge must do: size limit, signature,
// produce with acks=all, 200 only after the acknowledgement.
func baselineHandler(s *signer, kw *kafkago.Writer, topic string, now func() time.Time) http.Handler {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		if err := s.verify(r.Header, body, now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(hdrID)
		err = kw.WriteMessages(r.Context(), kafkago.Message{
			Topic: topic,
			Key:   []byte(id),
			Value: body,
			Headers: []kafkago.Header{
				{Key: "ce_id", Value: []byte(id)},
				{Key: "content-type", Value: jsonType},
			},
		})
		if err != nil {
			log.Error("produce failed", "err", err)
			http.Error(w, "kafka unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"accepted"}`)
	})
}
