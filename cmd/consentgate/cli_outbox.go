package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newOutboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List and requeue outbox messages Kafka refused for good",
		Long: `A record the gateway answered 200 for waits in the outbox while Kafka is away.
A message Kafka refuses for good (its topic does not exist and may not be
created, the gateway is not allowed to write it, it is too large) is parked
instead of holding up the others. Fix the cause, then requeue it.`,
	}
	client := addClientFlags(cmd)
	cmd.AddCommand(newOutboxParked(client), newOutboxRequeue(client))
	return cmd
}

func newOutboxParked(client *apiClient) *cobra.Command {
	return listCommand(client, "parked", "List parked messages, oldest first (never their record)", "/outbox/parked", func(tw *tabwriter.Writer, raw json.RawMessage) error {
		var out struct {
			Messages []struct {
				ID       int64     `json:"id"`
				Topic    string    `json:"topic"`
				ParkedAt time.Time `json:"parked_at"`
				Attempts int       `json:"attempts"`
				Reason   string    `json:"reason"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("decode parked messages: %w", err)
		}
		fmt.Fprintln(tw, "ID\tTOPIC\tATTEMPTS\tPARKED AT\tREASON")
		for _, m := range out.Messages {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", m.ID, m.Topic, m.Attempts, m.ParkedAt.Format(time.RFC3339), m.Reason)
		}
		return nil
	})
}

func newOutboxRequeue(client *apiClient) *cobra.Command {
	var ids []int64
	var all bool
	cmd := &cobra.Command{Use: "requeue (--id ID ... | --all)", Short: "Return parked messages to the queue", Args: cobra.NoArgs}
	cmd.Flags().Int64SliceVar(&ids, "id", nil, "a parked message id (see outbox parked); repeat for more")
	cmd.Flags().BoolVar(&all, "all", false, "every parked message")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if all == (len(ids) > 0) {
			return usageError{fmt.Errorf("give --id ID (one or more) or --all")}
		}
		var out struct {
			Requeued int64 `json:"requeued"`
		}
		if err := client.call(cmd.Context(), http.MethodPost, "/outbox/parked/requeue", map[string]any{"ids": ids}, &out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%d parked message(s) requeued\n", out.Requeued)
		return nil
	}
	return cmd
}
