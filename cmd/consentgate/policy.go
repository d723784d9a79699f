package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/consentgate/consentgate/internal/policy"
)

func newPolicy() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check a consent policy, or explain what it does to a payload",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a policy file and list every problem with line, key and fix",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := policy.Load(args[0])
			if err != nil {
				return err
			}
			for _, w := range p.Warnings() {
				fmt.Fprintln(cmd.OutOrStdout(), "warning:", w)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: policy version %s is valid (%d purposes, %d categories)\n", args[0], p.Version, len(p.Purposes), len(p.Categories))
			return nil
		},
	})
	cmd.AddCommand(newExplain())
	return cmd
}
