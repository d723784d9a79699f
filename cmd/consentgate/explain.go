package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/pipeline"
)

func newExplain() *cobra.Command {
	var file, connector, payload string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain --connector ID --payload FILE",
		Short: "Show what the policy would do to a payload, field by field, and why",
		Long: `Parse a payload as the connector would (the signature is not checked), map
its fields, take consent from its checkboxes, and show per field whether it
would be kept, redacted, hashed, masked or dropped, by which rule, and per
purpose the consent behind it. Nothing is forwarded or stored; the ledger is
not consulted (use the admin API's dry-run for that).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadGateway(file)
			if err != nil {
				return err
			}
			secrets := &devSecrets{path: os.DevNull}
			fakeHashKey := false
			l, err := app.Load(cfg, func(ref config.SecretRef, base string) (string, error) {
				if v, err := config.ResolveSecret(ref, base); err == nil {
					return v, nil
				}
				if ref == cfg.HashKey {
					fakeHashKey = true
				}
				// Signatures are not checked here: any value lets the
				// connector open.
				return secrets.placeholder(), nil
			})
			if err != nil {
				return err
			}
			var c *config.Connector
			for _, x := range l.Connectors {
				if x.ID == connector {
					c = x
				}
			}
			if c == nil {
				return fmt.Errorf("no connector %q in %s", connector, cfg.Path(cfg.ConnectorsDir))
			}
			body, err := os.ReadFile(payload)
			if err != nil {
				return fmt.Errorf("read payload: %w", err)
			}
			p := pipeline.NewExplainer(pipeline.Options{Engine: l.Engine, Keyer: l.Keyer, PolicyVersion: l.Policy.Version})
			h := http.Header{"Content-Type": []string{"application/json"}}
			ex, err := p.Explain(cmd.Context(), c, &ingest.Request{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: time.Now().UTC(), RequestID: "explain"}, false)
			if err != nil {
				return fmt.Errorf("parse payload as %s: %w", c.Platform, err)
			}
			if fakeHashKey {
				// A key made with a stand-in hash key matches nothing in
				// any ledger: show none rather than a misleading one.
				for i := range ex.Records {
					ex.Records[i].SubjectKey = ""
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "note: hash_key (%s) is not set here, so subject keys are not shown; set it as the gateway has it to see them\n", cfg.HashKey)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(ex)
			}
			printExplanation(cmd.OutOrStdout(), ex)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "configs/consentgate.yaml", "gateway config file")
	cmd.Flags().StringVar(&connector, "connector", "", "connector id")
	cmd.Flags().StringVar(&payload, "payload", "", "payload file (the body the platform would POST)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("connector")
	_ = cmd.MarkFlagRequired("payload")
	return cmd
}

func (d *devSecrets) placeholder() string { return "whsec_" + strings.Repeat("A", 44) }

func printExplanation(w io.Writer, ex pipeline.Explanation) {
	fmt.Fprintf(w, "connector %s, policy %s: %d record(s), %d fetch job(s), %d ignored\n", ex.Connector, ex.PolicyVersion, len(ex.Records), ex.Jobs, ex.Ignored)
	for _, r := range ex.Records {
		subject := r.SubjectKey
		if subject == "" {
			subject = "(key not shown)"
		}
		fmt.Fprintf(w, "\nrecord %s (%s, %s)\n  subject %s (by %s), jurisdiction %q → %s, GPC %v\n  outcome: %s", r.EventID, r.Kind, r.Type, subject, r.KeySource, r.Jurisdiction, r.Regime, r.GPC, r.Outcome)
		if r.DropRule != "" {
			fmt.Fprintf(w, " (rule %s)", r.DropRule)
		}
		if r.Topic != "" {
			fmt.Fprintf(w, " → %s", r.Topic)
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  FIELD\tCANONICAL\tCATEGORY\tACTION\tRULE\tPURPOSES")
		for _, f := range r.Fields {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.Platform, dash(f.Canonical), dash(f.Category), f.Action, f.Rule, dash(strings.Join(f.Purposes, ",")))
		}
		tw.Flush()
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PURPOSE\tSTATUS\tRULE\tPAYLOAD SAYS")
		for _, name := range sortedNames(r.Purposes) {
			pr := r.Purposes[name]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name, pr.Status, pr.Rule, dash(r.Consent[name]))
		}
		tw.Flush()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
