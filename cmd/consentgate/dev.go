package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/broker"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/ingest"
)

func newDev() *cobra.Command {
	var (
		file, dataDir, listen, kafkaListen string
		quiet                              bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything locally with nothing else installed",
		Long: `Run the whole gateway on this machine: an embedded Kafka-protocol broker
(any Kafka client can use it), SQLite under the data directory, and the
policy and sample connectors from configs/. Secrets the sample connectors
name but the environment does not set are generated once and kept in
DATA/dev-secrets.json, so restarts keep working; topics and the database
also survive restarts.

It prints a ready-to-paste curl with a valid signature and a command to
watch the topic. Not for production: use "consentgate serve".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := config.ReadGateway(file)
			if err != nil {
				// Env secrets that are not set are no problem here: dev
				// makes them up.
				return app.ConfigProblems(cfg, err, func(ref config.SecretRef, base string) (string, error) {
					if v, err := config.ResolveSecret(ref, base); err == nil || ref.Env == "" {
						return v, err
					}
					return (&devSecrets{}).placeholder(), nil
				})
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return fmt.Errorf("create data directory %s: %w", dataDir, err)
			}
			log := app.NewLogger(config.Log{Level: cfg.Log.Level, Format: "text"})
			if quiet {
				log = slog.New(slog.NewTextHandler(io.Discard, nil))
			}
			slog.SetDefault(log)

			b, err := broker.Start(ctx, broker.Config{Addr: kafkaListen, DataDir: filepath.Join(dataDir, "kafka")})
			if err != nil {
				return fmt.Errorf("start embedded broker: %w", err)
			}
			defer b.Close()

			if os.Getenv("CONSENTGATE_DATABASE_URL") == "" {
				cfg.Database.URL = "sqlite:" + filepath.Join(dataDir, "consentgate.db")
			}
			cfg.Kafka.Brokers = b.Addrs()
			if listen != "" {
				cfg.Listen = listen
				cfg.PublicURL = "http://" + listen
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			secrets := &devSecrets{path: filepath.Join(dataDir, "dev-secrets.json")}
			app.TuneRuntime(log, cfg.Database.URL)
			return app.Run(ctx, cfg, app.Options{
				Log:    log,
				Secret: secrets.resolve,
				Ready: func(g *app.Gateway) {
					printBanner(cmd.OutOrStdout(), g, dataDir, b.Addrs()[0])
				},
			})
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "configs/consentgate.yaml", "gateway config file")
	cmd.Flags().StringVar(&dataDir, "data-dir", "data", "where SQLite, broker logs and generated dev secrets live")
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP address (default: the config's listen, 127.0.0.1:8080)")
	cmd.Flags().StringVar(&kafkaListen, "kafka-listen", "127.0.0.1:9092", "address of the embedded Kafka-protocol broker")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no logs, only the banner")
	return cmd
}

// devSecrets resolves secret references like production does, and makes
// up (once, persistently) the env secrets that are not set.
type devSecrets struct {
	path string
	mu   sync.Mutex
	vals map[string]string
}

func (d *devSecrets) resolve(ref config.SecretRef, base string) (string, error) {
	v, err := config.ResolveSecret(ref, base)
	if err == nil || ref.Env == "" {
		return v, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.vals == nil {
		d.vals = map[string]string{}
		if b, err := os.ReadFile(d.path); err == nil {
			if err := json.Unmarshal(b, &d.vals); err != nil {
				return "", fmt.Errorf("read %s: %w (delete it to generate new dev secrets)", d.path, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", d.path, err)
		}
	}
	if v, ok := d.vals[ref.Env]; ok {
		return v, nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	v = "whsec_" + base64.StdEncoding.EncodeToString(raw[:])
	if strings.Contains(ref.Env, "TOKEN") {
		v = "cgt_" + hex.EncodeToString(raw[:])
	}
	d.vals[ref.Env] = v
	b, _ := json.MarshalIndent(d.vals, "", "  ")
	if err := os.WriteFile(d.path, b, 0o600); err != nil {
		return "", fmt.Errorf("keep dev secret in %s: %w", d.path, err)
	}
	return v, nil
}

// sampleSigner is implemented by connectors that can sign a sample body
// the way their platform would (the generic connector).
type sampleSigner interface {
	SampleHeaders(body []byte, now time.Time) map[string]string
}

func printBanner(w io.Writer, g *app.Gateway, dataDir, kafkaAddr string) {
	base := strings.TrimRight(g.Config.PublicURL, "/")
	fmt.Fprintf(w, "\nconsentgate dev is running\n")
	fmt.Fprintf(w, "  webhooks  %s/webhooks/{connector-id}\n", base)
	fmt.Fprintf(w, "  kafka     %s (embedded, any Kafka client; data in %s)\n", kafkaAddr, filepath.Join(dataDir, "kafka"))
	fmt.Fprintf(w, "  database  %s\n", redactURL(g.Config.Database.URL))
	fmt.Fprintf(w, "  metrics   %s/metrics   health %s/readyz\n", base, base)
	if g.AdminToken != "" {
		fmt.Fprintf(w, "  admin API %s/api/v1   token %s\n", base, g.AdminToken)
		fmt.Fprintf(w, "  console   %s/console/   (sign in with the admin token)\n", base)
		fmt.Fprintf(w, "  CLI       export CONSENTGATE_SERVER=%s CONSENTGATE_TOKEN=%s\n", base, g.AdminToken)
	}
	ids := make([]string, 0, len(g.Connectors))
	for _, c := range g.Connectors {
		ids = append(ids, c.ID+" ("+c.Platform+")")
	}
	sort.Strings(ids)
	fmt.Fprintf(w, "  connectors %s\n", strings.Join(ids, ", "))
	body := sampleLead()
	if c, s := sampleTarget(g.Connectors, body); c != nil {
		fmt.Fprintf(w, "\nSend a signed sample lead to %s:\n\n", c.ID)
		fmt.Fprintf(w, "curl -sS -X POST %s/webhooks/%s \\\n  -H 'Content-Type: application/json' \\\n", base, c.ID)
		hs := s.SampleHeaders(body, time.Now())
		keys := make([]string, 0, len(hs))
		for k := range hs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  -H '%s: %s' \\\n", k, hs[k])
		}
		fmt.Fprintf(w, "  --data-binary '%s'\n", body)
		fmt.Fprintf(w, "\nWatch what reaches the CRM topic (only consented fields):\n\n")
		fmt.Fprintf(w, "kcat -b %s -C -t %s -o beginning -f 'key=%%k\\n%%s\\n\\n'\n", kafkaAddr, c.Topics.Leads)
		fmt.Fprintf(w, "go run ./cmd/consentgate tail --brokers %s --topic %s\n\n", kafkaAddr, c.Topics.Leads)
	}
}

// sampleTarget picks the connector the banner's curl is for: sample-generic
// when it is there, else the first (by id) enabled connector that can sign
// a sample and whose mapping reads this body as a record. Without the
// parse check, a connector with another shape (records_path: events, say)
// got a curl that answered 400.
func sampleTarget(cs []*config.Connector, body []byte) (*config.Connector, sampleSigner) {
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b *config.Connector) int {
		if (a.ID == "sample-generic") != (b.ID == "sample-generic") {
			if a.ID == "sample-generic" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, c := range sorted {
		s, ok := c.Impl.(sampleSigner)
		if !ok || !c.Enabled {
			continue
		}
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range s.SampleHeaders(body, time.Now()) {
			h.Set(k, v)
		}
		if b, err := c.Impl.Parse(&ingest.Request{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: time.Now()}); err != nil || len(b.Records) == 0 {
			continue
		}
		return c, s
	}
	return nil, nil
}

// sampleLead is a lead with a new event id, consent for e-mail marketing
// only, and a field no one mapped.
func sampleLead() []byte {
	var id [6]byte
	_, _ = rand.Read(id[:])
	return []byte(fmt.Sprintf(`{"id":"evt_%s","type":"lead.created","occurred_at":"%s","lead":{"email":"Ana.Muster@example.com","phone":"+49 151 23456789","first_name":"Ana","last_name":"Muster","company":"ACME GmbH","country":"DE","favourite_colour":"teal"},"consent":{"marketing_email":true,"sales_contact":false}}`,
		hex.EncodeToString(id[:]), time.Now().UTC().Format(time.RFC3339)))
}
