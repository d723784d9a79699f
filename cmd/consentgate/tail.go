package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
)

func newTail() *cobra.Command {
	var (
		brokers, topic string
		fromStart      bool
	)
	cmd := &cobra.Command{
		Use:   "tail --topic TOPIC",
		Short: "Print records from a Kafka topic, all partitions (for trying things out)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			addrs := strings.Split(brokers, ",")
			conn, err := kafkago.DialContext(ctx, "tcp", addrs[0])
			if err != nil {
				return fmt.Errorf("connect to %s: %w", addrs[0], err)
			}
			parts, err := conn.ReadPartitions(topic)
			conn.Close()
			if err != nil {
				return fmt.Errorf("read partitions of %s: %w", topic, err)
			}
			var (
				mu sync.Mutex
				wg sync.WaitGroup
			)
			out := cmd.OutOrStdout()
			for _, p := range parts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: addrs, Topic: topic, Partition: p.ID, MaxWait: 500 * time.Millisecond})
					defer r.Close()
					if fromStart {
						_ = r.SetOffset(kafkago.FirstOffset)
					} else {
						_ = r.SetOffset(kafkago.LastOffset)
					}
					for {
						m, err := r.ReadMessage(ctx)
						if err != nil {
							return
						}
						mu.Lock()
						printMessage(out, m)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if ctx.Err() != nil && ctx.Err() != context.Canceled {
				return ctx.Err()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&brokers, "brokers", "127.0.0.1:9092", "comma-separated Kafka brokers")
	cmd.Flags().StringVar(&topic, "topic", "crm.leads.v1", "topic to read")
	cmd.Flags().BoolVar(&fromStart, "from-beginning", true, "start at the oldest record (false: only new ones)")
	return cmd
}

func printMessage(out interface{ Write([]byte) (int, error) }, m kafkago.Message) {
	var pretty any
	val := string(m.Value)
	if json.Unmarshal(m.Value, &pretty) == nil {
		b, _ := json.MarshalIndent(pretty, "", "  ")
		val = string(b)
	}
	fmt.Fprintf(out, "partition=%d offset=%d key=%s\n", m.Partition, m.Offset, m.Key)
	for _, h := range m.Headers {
		fmt.Fprintf(out, "  %s: %s\n", h.Key, h.Value)
	}
	fmt.Fprintln(out, val)
	fmt.Fprintln(out)
}
