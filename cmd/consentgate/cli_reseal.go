package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/connsync"
	"github.com/consentgate/consentgate/internal/secretbox"
)

func newResealSecrets() *cobra.Command {
	var file, url string
	cmd := &cobra.Command{
		Use:   "reseal-secrets [--config FILE | --database-url URL]",
		Short: "Re-encrypt stored connector secrets under the first key of the key ring",
		Long: `Key rotation, step 2 (docs/admin-api.md, "Secrets at rest"): with a new key
first in CONSENTGATE_SECRET_KEYS (or CONSENTGATE_SECRET_KEYS_FILE) and the old
keys after it, re-encrypt every stored connector secret under the new key.
Running gateways pick the change up within seconds. Afterwards the old keys
can be removed from the ring. Values are never printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, url, err := databaseConfig(url, file)
			if err != nil {
				return err
			}
			ring, err := app.LoadKeyRing(cfg, nil)
			if err != nil {
				return err
			}
			if ring == nil {
				return usageError{fmt.Errorf("no key ring: set %s (new key first, old keys after it)", app.EnvSecretKeys)}
			}
			ctx := cmd.Context()
			st, err := openDatabase(ctx, url)
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := st.ListConnectors(ctx)
			if err != nil {
				return err
			}
			var resealed int
			for _, row := range rows {
				spec, err := connsync.DecodeSpec(row.Spec)
				if err != nil {
					return err
				}
				n := 0
				for name, s := range spec.Secrets {
					if id, err := secretbox.KeyID(s.Sealed); err != nil || id == ring.Primary() {
						continue
					}
					pt, err := ring.Open(s.Sealed, connsync.AD(row.ID, name))
					if err != nil {
						return fmt.Errorf("connector %s secret %s: %w", row.ID, name, err)
					}
					if s.Sealed, err = ring.Seal(pt, connsync.AD(row.ID, name)); err != nil {
						return err
					}
					spec.Secrets[name] = s
					n++
				}
				if n == 0 {
					continue
				}
				if row.Spec, err = spec.Encode(); err != nil {
					return err
				}
				row.UpdatedAt = time.Now()
				if err := st.PutConnector(ctx, row); err != nil {
					return err
				}
				resealed += n
				fmt.Fprintf(cmd.OutOrStdout(), "connector/%s: %d secret(s) re-encrypted under key %s\n", row.ID, n, ring.Primary())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d secret(s) re-encrypted; every stored secret is now under key %s\n", resealed, ring.Primary())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "gateway config file naming the database")
	cmd.Flags().StringVar(&url, "database-url", "", "database URL (default: CONSENTGATE_DATABASE_URL, then the config)")
	return cmd
}
