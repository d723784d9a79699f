package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/internal/pipeline"
)

func newConnectors() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connectors",
		Short: "List, apply, delete and dry-run connectors through the admin API",
		Long: `Manage the connectors of a running gateway through its admin API.

"apply" takes connector files in the same YAML format as the connectors
directory (docs/configuration.md) and is idempotent: applying a file that
matches what the gateway has changes nothing and says "unchanged", so
connector YAML can live in git and be applied from CI. Secrets in those files
are references ({env: VAR} or {file: PATH}, resolved on the gateway) or, when
the gateway has an encryption key, {value: ...} (stored encrypted).
Changes reach every gateway instance within seconds, without a restart.`,
	}
	client := addClientFlags(cmd)
	cmd.AddCommand(newConnectorsList(client), newConnectorsGet(client), newConnectorsApply(client),
		newConnectorsDelete(client), newConnectorsDryRun(client))
	return cmd
}

// connectorOut is what the CLI reads of the API's Connector.
type connectorOut struct {
	ID         string `json:"id"`
	Platform   string `json:"platform"`
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	Source     string `json:"source"`
	WebhookURL string `json:"webhook_url"`
	Error      string `json:"error"`
}

func newConnectorsList(client *apiClient) *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List connectors (from files and from the API)", Args: cobra.NoArgs}
	output := outputFlag(cmd, "table")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodGet, "/connectors", nil, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var list struct {
			Connectors []connectorOut `json:"connectors"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("decode connectors: %w", err)
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPLATFORM\tSOURCE\tENABLED\tNAME\tWEBHOOK URL")
		for _, c := range list.Connectors {
			name := c.Name
			if c.Error != "" {
				name += " (ERROR: " + c.Error + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", c.ID, c.Platform, c.Source, c.Enabled, name, c.WebhookURL)
		}
		return tw.Flush()
	}
	return cmd
}

func newConnectorsGet(client *apiClient) *cobra.Command {
	return &cobra.Command{
		Use: "get ID", Short: "Show one connector as JSON (secrets only say whether they are set)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw json.RawMessage
			if err := client.call(cmd.Context(), http.MethodGet, "/connectors/"+pathEscape(args[0]), nil, &raw); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), raw)
		},
	}
}

func newConnectorsApply(client *apiClient) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE [-f FILE|DIR ...]",
		Short: "Create or update connectors from YAML files (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return usageError{fmt.Errorf("pass at least one connector file with -f FILE (a directory applies its *.yaml files)")}
			}
			paths, err := expandFiles(files)
			if err != nil {
				return err
			}
			var failed int
			for _, p := range paths {
				id, changed, err := applyFile(cmd, client, p)
				switch {
				case err != nil:
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", p, err)
				case changed:
					fmt.Fprintf(cmd.OutOrStdout(), "connector/%s configured\n", id)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "connector/%s unchanged\n", id)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d connector files were not applied", failed, len(paths))
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "connector YAML file, or a directory of them (repeatable)")
	return cmd
}

func expandFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("connector file: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(a, pat))
			out = append(out, m...)
		}
	}
	sort.Strings(out)
	return out, nil
}

// applyFile PUTs one connector file; the gateway validates it exactly as
// it validates its connectors directory.
func applyFile(cmd *cobra.Command, client *apiClient, path string) (id string, changed bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false, err
	}
	doc, err := yamlToJSON(data)
	if err != nil {
		return "", false, err
	}
	id, _ = doc["id"].(string)
	if id == "" {
		return "", false, fmt.Errorf("id: is required (the connector id, e.g. id: meta-brand-a)")
	}
	var out struct {
		Changed bool `json:"changed"`
	}
	if err := client.call(cmd.Context(), http.MethodPut, "/connectors/"+pathEscape(id), doc, &out); err != nil {
		return id, false, err
	}
	return id, out.Changed, nil
}

// yamlToJSON reads a YAML mapping as a JSON object. Messages never echo
// values: a connector file may hold a secret.
func yamlToJSON(data []byte) (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML (a connector file is a YAML mapping)")
	}
	if doc == nil {
		return nil, fmt.Errorf("the file is empty; it must hold a connector mapping")
	}
	// JSON cannot hold every YAML value (e.g. non-string keys): fail here
	// with a clear message rather than send half a spec.
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("the file holds a value JSON cannot carry (keys must be strings): %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func newConnectorsDelete(client *apiClient) *cobra.Command {
	return &cobra.Command{
		Use: "delete ID", Short: "Delete a connector created through the API (file connectors are read-only)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := client.call(cmd.Context(), http.MethodDelete, "/connectors/"+pathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "connector/%s deleted\n", args[0])
			return nil
		},
	}
}

func newConnectorsDryRun(client *apiClient) *cobra.Command {
	var (
		payload   string
		headers   []string
		useLedger bool
	)
	cmd := &cobra.Command{
		Use:   "dry-run ID --payload FILE",
		Short: "Show, field by field, what the gateway would do with a payload (nothing is forwarded or stored)",
		Args:  cobra.ExactArgs(1),
	}
	output := outputFlag(cmd, "table")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		if payload == "" {
			return usageError{fmt.Errorf("--payload FILE is required (a sample webhook body; - reads stdin)")}
		}
		var data []byte
		var err error
		if payload == "-" {
			data, err = io.ReadAll(cmd.InOrStdin())
		} else {
			data, err = os.ReadFile(payload)
		}
		if err != nil {
			return fmt.Errorf("read payload: %w", err)
		}
		body := map[string]any{"use_ledger": useLedger}
		if json.Valid(data) {
			body["payload"] = json.RawMessage(data)
		} else {
			body["payload_text"] = string(data)
		}
		if len(headers) > 0 {
			h := map[string]string{}
			for _, kv := range headers {
				k, v, ok := strings.Cut(kv, ":")
				if !ok {
					return usageError{fmt.Errorf("--header must look like Name: value")}
				}
				h[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			body["headers"] = h
		}
		var raw json.RawMessage
		if err := client.call(cmd.Context(), http.MethodPost, "/connectors/"+pathEscape(args[0])+"/dry-run", body, &raw); err != nil {
			return err
		}
		if *output == "json" {
			return printJSON(cmd.OutOrStdout(), raw)
		}
		var ex pipeline.Explanation
		if err := json.Unmarshal(raw, &ex); err != nil {
			return fmt.Errorf("decode explanation: %w", err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), "dry run: nothing was forwarded or stored")
		printExplanation(cmd.OutOrStdout(), ex)
		return nil
	}
	cmd.Flags().StringVar(&payload, "payload", "", "file with a sample webhook body (- for stdin)")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, `request header "Name: value" the payload would come with (repeatable)`)
	cmd.Flags().BoolVar(&useLedger, "use-ledger", false, "also consult the consent ledger (read-only), as a real delivery would")
	return cmd
}
