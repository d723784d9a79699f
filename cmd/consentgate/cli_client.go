package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Environment defaults of the admin API client commands.
const (
	envServer     = "CONSENTGATE_SERVER"
	envToken      = "CONSENTGATE_TOKEN"
	defaultServer = "http://127.0.0.1:8080"
)

// apiClient talks to a running gateway's admin API (/api/v1).
type apiClient struct {
	server string
	token  string
	http   *http.Client
}

// addClientFlags adds --server and --token to a command group; their
// defaults come from CONSENTGATE_SERVER and CONSENTGATE_TOKEN.
func addClientFlags(cmd *cobra.Command) *apiClient {
	c := &apiClient{http: &http.Client{Timeout: 30 * time.Second}}
	server := os.Getenv(envServer)
	if server == "" {
		server = defaultServer
	}
	cmd.PersistentFlags().StringVar(&c.server, "server", server, "gateway base URL (env "+envServer+")")
	cmd.PersistentFlags().StringVar(&c.token, "token", "", "admin API bearer token (env "+envToken+"; \"consentgate dev\" prints one)")
	return c
}

// apiError is an error answer of the admin API.
type apiError struct {
	Status  int
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d", e.Message, e.Status)
	if e.Code != "" {
		b.WriteString(", " + e.Code)
	}
	b.WriteString(")")
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s: %s", k, e.Fields[k])
	}
	return b.String()
}

// call sends body as JSON (nil: none) and decodes a 2xx answer into out
// (nil: ignored). Other answers become *apiError.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	token := c.token
	if token == "" {
		token = os.Getenv(envToken)
	}
	if token == "" {
		return usageError{fmt.Errorf("no admin token: pass --token or set %s (`consentgate dev` prints one; `consentgate tokens create` makes more)", envToken)}
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	url := strings.TrimRight(c.server, "/") + "/api/v1" + path
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the gateway running at %s? set --server or %s)", method, path, err, c.server, envServer)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Error.Message == "" {
			env.Error.Message = strings.TrimSpace(string(raw))
			if env.Error.Message == "" {
				env.Error.Message = http.StatusText(resp.StatusCode)
			}
		}
		env.Error.Status = resp.StatusCode
		return &env.Error
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// outputFlag adds -o/--output (table or json).
func outputFlag(cmd *cobra.Command, def string) *string {
	var o string
	cmd.Flags().StringVarP(&o, "output", "o", def, "output format: table or json")
	return &o
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return usageError{fmt.Errorf("--output must be table or json")}
	}
	return nil
}

// pathEscape keeps an id from changing the URL's path.
func pathEscape(s string) string { return neturl.PathEscape(s) }
