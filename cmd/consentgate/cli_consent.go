package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newConsent() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Record, withdraw, look up and erase consent through the admin API",
		Long: `Privacy-officer tasks against a running gateway's admin API. A subject is named
by exactly one of --email, --phone (international form), --platform with
--user-id, or --key (a subject key from the decision log). Identifiers are
hashed by the gateway at once; they are never stored or logged.`,
	}
	client := addClientFlags(cmd)
	cmd.AddCommand(newConsentChange(client, "grant", "Record that a subject granted consent for a purpose"),
		newConsentChange(client, "withdraw", "Record that a subject withdrew consent for a purpose (wins over older grants at once)"),
		newConsentHistory(client), newConsentErase(client))
	return cmd
}

type subjectFlags struct{ email, phone, platform, userID, key string }

func (s *subjectFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.email, "email", "", "subject's e-mail address")
	cmd.Flags().StringVar(&s.phone, "phone", "", "subject's phone number, international form (+49…)")
	cmd.Flags().StringVar(&s.platform, "platform", "", "platform of --user-id (meta, linkedin, …)")
	cmd.Flags().StringVar(&s.userID, "user-id", "", "subject's platform account id")
	cmd.Flags().StringVar(&s.key, "key", "", "subject key (from the decision log or a lookup)")
}

func (s *subjectFlags) subject() (map[string]string, error) {
	out := map[string]string{}
	set := 0
	for _, kv := range []struct{ k, v string }{{"email", s.email}, {"phone", s.phone}, {"key", s.key}} {
		if kv.v != "" {
			out[kv.k] = kv.v
			set++
		}
	}
	if s.platform != "" || s.userID != "" {
		out["platform"], out["user_id"] = s.platform, s.userID
		set++
	}
	if set != 1 {
		return nil, usageError{fmt.Errorf("name the subject with exactly one of --email, --phone, --key, or --platform with --user-id")}
	}
	return out, nil
}

func newConsentChange(client *apiClient, verb, short string) *cobra.Command {
	var (
		subj              subjectFlags
		purpose, obtained string
		notice            string
	)
	cmd := &cobra.Command{Use: verb + " --email E|--phone P|--key K --purpose P", Short: short, Args: cobra.NoArgs}
	subj.add(cmd)
	cmd.Flags().StringVar(&purpose, "purpose", "", "purpose from the policy, e.g. marketing_email (required)")
	cmd.Flags().StringVar(&obtained, "obtained-at", "", "when the subject made the choice (RFC 3339; default now)")
	cmd.Flags().StringVar(&notice, "notice", "", "privacy notice shown, as ID@VERSION (e.g. web-privacy@3)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := subj.subject()
		if err != nil {
			return err
		}
		if purpose == "" {
			return usageError{fmt.Errorf("--purpose is required (see GET /api/v1/policy for the purposes)")}
		}
		body := map[string]any{"subject": s, "purpose": purpose}
		if obtained != "" {
			body["obtained_at"] = obtained
		}
		if notice != "" {
			id, version, ok := strings.Cut(notice, "@")
			if !ok || id == "" || version == "" {
				return usageError{fmt.Errorf("--notice must look like ID@VERSION, e.g. web-privacy@3")}
			}
			body["notice"] = map[string]string{"id": id, "version": version}
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodPost, "/consent/"+verb, body, &raw); err != nil {
			return err
		}
		return printJSON(cmd.OutOrStdout(), raw)
	}
	return cmd
}

// ledgerEntry is what the CLI prints of a ledger entry.
type ledgerEntry struct {
	ID         string `json:"id"`
	Purpose    string `json:"purpose"`
	Status     string `json:"status"`
	Method     string `json:"method"`
	Connector  string `json:"connector"`
	ObtainedAt string `json:"obtained_at"`
	ExpiresAt  string `json:"expires_at"`
}

func newConsentHistory(client *apiClient) *cobra.Command {
	var subj subjectFlags
	cmd := &cobra.Command{Use: "history --email E|--phone P|--key K", Short: "Show a subject's current consent and full ledger history", Args: cobra.NoArgs}
	subj.add(cmd)
	output := outputFlag(cmd, "table")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		s, err := subj.subject()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodPost, "/consent/lookup", map[string]any{"subject": s}, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var out struct {
			SubjectKey string                `json:"subject_key"`
			Current    map[string]currentOut `json:"current"`
			History    []ledgerEntry         `json:"history"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("decode lookup: %w", err)
		}
		return printHistory(cmd.OutOrStdout(), out.SubjectKey, out.Current, out.History)
	}
	return cmd
}

type currentOut struct {
	Status          string `json:"status"`
	EffectiveStatus string `json:"effective_status"`
}

func printHistory(w io.Writer, key string, current map[string]currentOut, history []ledgerEntry) error {
	fmt.Fprintf(w, "subject %s\n\ncurrent:\n", key)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PURPOSE\tSTATUS\tEFFECTIVE")
	purposes := make([]string, 0, len(current))
	for p := range current {
		purposes = append(purposes, p)
	}
	sort.Strings(purposes)
	for _, p := range purposes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p, current[p].Status, current[p].EffectiveStatus)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nhistory (oldest first):\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBTAINED\tPURPOSE\tSTATUS\tMETHOD\tCONNECTOR\tENTRY")
	for _, e := range history {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ObtainedAt, e.Purpose, e.Status, e.Method, dash(e.Connector), e.ID)
	}
	return tw.Flush()
}

func newConsentErase(client *apiClient) *cobra.Command {
	var (
		subj subjectFlags
		yes  bool
	)
	cmd := &cobra.Command{Use: "erase --email E|--phone P|--key K --yes", Short: "Erase a subject's ledger entries (leaves an anonymous tombstone; cannot be undone)", Args: cobra.NoArgs}
	subj.add(cmd)
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: the erasure cannot be undone")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := subj.subject()
		if err != nil {
			return err
		}
		if !yes {
			return usageError{fmt.Errorf("erasure cannot be undone: add --yes to confirm")}
		}
		var out struct {
			SubjectKey     string `json:"subject_key"`
			EntriesRemoved int64  `json:"entries_removed"`
		}
		if err := client.call(cmd.Context(), http.MethodPost, "/consent/erase", map[string]any{"subject": s}, &out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "erased subject %s: %d ledger entries removed\n", out.SubjectKey, out.EntriesRemoved)
		return nil
	}
	return cmd
}
