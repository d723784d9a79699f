package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newDeadLetters() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deadletters",
		Short: "List, retry and discard fetch jobs that failed for good",
		Long: `Notify-only platforms (Meta Lead Ads, LinkedIn) send ids; the gateway fetches
the lead with retries. A job that keeps failing ends as a dead letter with its
reason. Fix the cause (a token, a permission), then retry it; or discard it.`,
	}
	client := addClientFlags(cmd)
	cmd.AddCommand(newDeadLettersList(client), newDeadLetterAction(client, "retry", http.MethodPost, "Queue a dead letter again (attempts start from zero)"),
		newDeadLetterAction(client, "discard", http.MethodDelete, "Give up on a dead letter and delete it"))
	return cmd
}

func newDeadLettersList(client *apiClient) *cobra.Command {
	var limit int
	cmd := &cobra.Command{Use: "list", Short: "List dead letters, newest first", Args: cobra.NoArgs}
	output := outputFlag(cmd, "table")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodGet, "/deadletters?limit="+strconv.Itoa(limit), nil, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var out struct {
			Jobs []struct {
				ID        int64     `json:"id"`
				Connector string    `json:"connector"`
				EventID   string    `json:"event_id"`
				Attempts  int       `json:"attempts"`
				LastError string    `json:"last_error"`
				UpdatedAt time.Time `json:"updated_at"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("decode dead letters: %w", err)
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCONNECTOR\tEVENT\tATTEMPTS\tFAILED AT\tREASON")
		for _, j := range out.Jobs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Connector, j.EventID, j.Attempts, j.UpdatedAt.Format(time.RFC3339), j.LastError)
		}
		return tw.Flush()
	}
	return cmd
}

func newDeadLetterAction(client *apiClient, verb, method, short string) *cobra.Command {
	return &cobra.Command{
		Use: verb + " ID", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
				return usageError{fmt.Errorf("ID must be a job id (a number, see deadletters list)")}
			}
			path := "/deadletters/" + args[0]
			if verb == "retry" {
				path += "/retry"
			}
			if err := client.call(cmd.Context(), method, path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "dead letter %s: %s done\n", args[0], verb)
			return nil
		},
	}
}
