package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/config"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/backend"
	"github.com/consentgate/consentgate/internal/store/postgres"
)

const envDatabaseURL = "CONSENTGATE_DATABASE_URL"

func newServe() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the gateway in production (real Kafka brokers, PostgreSQL)",
		Long: `Run the gateway against the Kafka brokers and database named in the config
file.

It refuses to start on bad configuration, listing every problem with file,
line, key and fix, and it checks that Kafka and the database answer before
it listens. Migrations are applied at start. SIGTERM drains in-flight
requests, flushes Kafka and closes the database before exiting.

` + serveEnvHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError{fmt.Errorf("--config is required: pass the path of your consentgate.yaml (configs/consentgate.yaml is an example)")}
			}
			cfg, err := config.ReadGateway(file)
			if err != nil {
				return app.ConfigProblems(cfg, err, nil)
			}
			log := app.NewLogger(cfg.Log)
			slog.SetDefault(log)
			app.TuneRuntime(log, cfg.Database.URL)
			return app.Run(cmd.Context(), cfg, app.Options{Log: log})
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "gateway config file (YAML)")
	return cmd
}

// serveEnvHelp lists every environment variable serve reads; the
// overrides come from the config package so the list cannot fall behind.
func serveEnvHelp() string {
	var b strings.Builder
	b.WriteString("Environment variables override the file (lists comma-separated, relative\npaths from the working directory):\n")
	for _, o := range config.EnvOverrides() {
		fmt.Fprintf(&b, "  %-30s %s\n", o[0], o[1])
	}
	b.WriteString("Secrets, where the file keeps the default references:\n")
	fmt.Fprintf(&b, "  %-30s %s\n", "CONSENTGATE_HASH_KEY", "hash_key (at least 32 random bytes)")
	fmt.Fprintf(&b, "  %-30s %s\n", "CONSENTGATE_ADMIN_TOKEN", "admin_token (bootstrap admin API token)")
	b.WriteString("Environment only:\n")
	fmt.Fprintf(&b, "  %-30s %s\n", app.EnvSecretKeys, "key ring sealing stored connector secrets (id:key,…)")
	fmt.Fprintf(&b, "  %-30s %s\n", app.EnvSecretKeysFile, "file holding that key ring (used instead when set)")
	fmt.Fprintf(&b, "  %-30s %s\n", app.EnvPprofListen, "address of a separate profiling listener (off unless set)")
	b.WriteString("GOGC, GOMEMLIMIT and GOMAXPROCS are tuned unless set: docs/configuration.md.")
	return b.String()
}

func newMigrate() *cobra.Command {
	var file, url string
	cmd := &cobra.Command{
		Use:   "migrate [--config FILE | --database-url URL]",
		Short: "Apply database migrations and exit",
		Long: `Apply the embedded, ordered schema migrations to the database and exit.
serve and dev apply them at start too; run this from a deploy step when the
gateway's database user may not change the schema. The database comes from
--database-url, else CONSENTGATE_DATABASE_URL, else the config file; one of
the three is required.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, err := databaseURL(url, file)
			if err != nil {
				return err
			}
			return migrate(cmd.Context(), url, cmd)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "gateway config file (YAML)")
	cmd.Flags().StringVar(&url, "database-url", "", "database URL (postgres://… or sqlite:PATH)")
	return cmd
}

// databaseURL is the database a command works on: the --database-url flag,
// else the config file's (with its env overrides), else
// CONSENTGATE_DATABASE_URL.
func databaseURL(flag, file string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	_, url, err := databaseConfig(flag, file)
	return url, err
}

// databaseConfig is databaseURL with the gateway config it came from (the
// defaults with env overrides when there is no file). Naming none of the
// three is a usage error: the default sqlite:./data/consentgate.db is for
// dev, and a deploy step that forgot the URL must fail, not migrate or
// write tokens into a new empty file.
func databaseConfig(flag, file string) (*config.Gateway, string, error) {
	if flag == "" && file == "" && os.Getenv(envDatabaseURL) == "" {
		return nil, "", usageError{fmt.Errorf("no database given: pass --database-url URL, set %s, or pass --config FILE whose database.url names it", envDatabaseURL)}
	}
	cfg := config.Default()
	if file != "" {
		c, err := config.LoadGateway(file)
		if err != nil {
			return nil, "", err
		}
		cfg = *c
	} else if err := cfg.ApplyEnv(); err != nil {
		return nil, "", err
	}
	if flag != "" {
		return &cfg, flag, nil
	}
	return &cfg, cfg.Database.URL, nil
}

// openDatabase opens the store for a one-off command. Errors name where the
// URL comes from; backend.Open keeps its password out of them.
func openDatabase(ctx context.Context, url string) (store.Store, error) {
	st, err := backend.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open database (--database-url / CONSENTGATE_DATABASE_URL / database.url): %w", err)
	}
	return st, nil
}

func migrate(ctx context.Context, url string, cmd *cobra.Command) error {
	st, err := openDatabase(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer st.Close()
	fmt.Fprintln(cmd.OutOrStdout(), "migrations applied to", redactURL(url))
	return nil
}

// redactURL hides a database password before printing the URL.
func redactURL(u string) string { return postgres.Redact(u) }
