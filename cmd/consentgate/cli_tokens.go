package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/adminapi"
	"github.com/consentgate/consentgate/internal/store"
)

func newTokens() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Create, list and revoke admin API tokens",
		Long: `Admin API tokens carry a role: admin (everything), marketer (connectors,
dry-run, dead letters), privacy (consent, notices, erasure, exports) or auditor
(read-only). A token is shown once, when it is created; the gateway keeps only
its SHA-256.

The first admin token comes from the gateway's config (admin_token, by default
the environment variable CONSENTGATE_ADMIN_TOKEN), or from
"consentgate tokens create --bootstrap", which writes to the database directly
and needs no running gateway.`,
	}
	client := addClientFlags(cmd)
	cmd.AddCommand(newTokensCreate(client), newTokensList(client), newTokensRevoke(client))
	return cmd
}

func newTokensCreate(client *apiClient) *cobra.Command {
	var (
		name, role     string
		bootstrap      bool
		file, database string
	)
	cmd := &cobra.Command{
		Use:   "create --name N --role R",
		Short: "Create a token (printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError{fmt.Errorf("--name is required: who or what will use the token (it appears in the audit log)")}
			}
			if bootstrap {
				return bootstrapToken(cmd, name, role, file, database)
			}
			var out struct {
				ID    string `json:"id"`
				Role  string `json:"role"`
				Token string `json:"token"`
			}
			if err := client.call(cmd.Context(), http.MethodPost, "/tokens", map[string]string{"name": name, "role": role}, &out); err != nil {
				return err
			}
			printNewToken(cmd, out.ID, out.Role, out.Token)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who or what uses the token, e.g. \"ci deploy\" (required)")
	cmd.Flags().StringVar(&role, "role", "", "admin, marketer, privacy or auditor (required)")
	cmd.Flags().BoolVar(&bootstrap, "bootstrap", false, "write an admin token straight to the database (no running gateway or token needed)")
	cmd.Flags().StringVarP(&file, "config", "c", "", "with --bootstrap: gateway config file naming the database")
	cmd.Flags().StringVar(&database, "database-url", "", "with --bootstrap: database URL (default: CONSENTGATE_DATABASE_URL, then the config)")
	return cmd
}

func printNewToken(cmd *cobra.Command, id, role, token string) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "token %s (role %s) created. It is shown only now; store it safely:\n\n%s\n", id, role, token)
}

// bootstrapToken creates an admin token in the database itself: the way
// in when no admin token is configured yet.
func bootstrapToken(cmd *cobra.Command, name, role, file, url string) error {
	if role == "" {
		role = string(adminapi.RoleAdmin)
	}
	if role != string(adminapi.RoleAdmin) {
		return usageError{fmt.Errorf("--bootstrap creates an admin token; create other roles with that token")}
	}
	url, err := databaseURL(url, file)
	if err != nil {
		return err
	}
	st, err := openDatabase(cmd.Context(), url)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, hash := adminapi.NewToken()
	t := store.AdminToken{ID: "tok_" + uuid.NewString()[:8], Name: name, Role: role, Hash: hash, CreatedAt: time.Now()}
	if err := st.CreateAdminToken(cmd.Context(), t); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if err := st.AppendAudit(cmd.Context(), store.AuditEntry{At: t.CreatedAt, Actor: "consentgate tokens create --bootstrap", Role: "admin",
		Action: "token.create", Target: t.ID, Details: map[string]string{"name": name, "role": role, "bootstrap": "true"}}); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	printNewToken(cmd, t.ID, role, tok)
	return nil
}

func newTokensList(client *apiClient) *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List tokens (names, roles, last use; never the tokens)", Args: cobra.NoArgs}
	output := outputFlag(cmd, "table")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodGet, "/tokens", nil, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var out struct {
			Tokens []struct {
				ID         string     `json:"id"`
				Name       string     `json:"name"`
				Role       string     `json:"role"`
				CreatedAt  time.Time  `json:"created_at"`
				LastUsedAt *time.Time `json:"last_used_at"`
				RevokedAt  *time.Time `json:"revoked_at"`
			} `json:"tokens"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("decode tokens: %w", err)
		}
		when := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.Format(time.RFC3339)
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED\tREVOKED")
		for _, t := range out.Tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), when(t.LastUsedAt), when(t.RevokedAt))
		}
		return tw.Flush()
	}
	return cmd
}

func newTokensRevoke(client *apiClient) *cobra.Command {
	return &cobra.Command{
		Use: "revoke ID", Short: "Revoke a token (it stops working at once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := client.call(cmd.Context(), http.MethodDelete, "/tokens/"+pathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", args[0])
			return nil
		},
	}
}
