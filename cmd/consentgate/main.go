// Command consentgate is the consent-filtering webhook gateway.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Set by the linker: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		fmt.Fprintln(os.Stderr, "consentgate:", err)
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "consentgate",
		Short: "Consent-filtering webhook gateway: social platforms in, compliant records to Kafka",
		Long: `consentgate takes webhooks from social platforms (Meta, LinkedIn, TikTok, X,
Google Ads, or any signed JSON POST), verifies them, drops or redacts every field
that lacks consent for its purpose, keeps a consent ledger as evidence, and
forwards only compliant records to Kafka.

Start with "consentgate dev": it runs everything on this machine with nothing
else installed (embedded Kafka-protocol broker, SQLite, sample connectors).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDev(), newServe(), newMigrate(), newVersion(), newTail(), newPolicy())
	// Admin API clients (cli_*.go).
	root.AddCommand(newConnectors(), newConsent(), newTokens(), newDeadLetters(), newOutboxCmd(), newResealSecrets())
	return root
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "consentgate", version)
		},
	}
}
