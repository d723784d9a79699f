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
	return listCommand(client, "list", "List dead letters, newest first", "/deadletters", func(tw *tabwriter.Writer, raw json.RawMessage) error {
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
		fmt.Fprintln(tw, "ID\tCONNECTOR\tEVENT\tATTEMPTS\tFAILED AT\tREASON")
		for _, j := range out.Jobs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Connector, j.EventID, j.Attempts, j.UpdatedAt.Format(time.RFC3339), j.LastError)
		}
		return nil
	})
}

// listCommand is a "list" subcommand of an admin API collection: --limit,
// --output json (the API's answer as is) or table (printed by table).
func listCommand(client *apiClient, use, short, path string, table func(*tabwriter.Writer, json.RawMessage) error) *cobra.Command {
	var limit int
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	output := outputFlag(cmd, "table")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodGet, path+"?limit="+strconv.Itoa(limit), nil, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		if err := table(tw, raw); err != nil {
			return err
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
