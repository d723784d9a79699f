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

	"github.com/consentgate/consentgate/internal/kafka"
)

const maxBody = 1 << 20 // the gateway's default limit

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

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	srv := &http.Server{
		Handler:           baselineHandler(s, p, *topic, time.Now),
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
	return p.Close()
}

// baselineHandler is the least a bridge must do: size limit, signature,
// produce with acks=all, 200 only after the acknowledgement.
func baselineHandler(s *signer, p *kafka.Producer, topic string, now func() time.Time) http.Handler {
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
		err = p.Produce(r.Context(), kafka.Message{
			Topic: topic,
			Key:   []byte(id),
			Value: body,
			Headers: []kafka.Header{
				{Key: "ce_id", Value: id},
				{Key: "content-type", Value: "application/json"},
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
