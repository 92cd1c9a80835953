package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/docs"
)

func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write livecap's man pages (livecap.1, livecap-stream.1, ...) into DIR",
		Example: `  livecap man /usr/local/share/man/man1
  livecap completion zsh > "${fpath[1]}/_livecap"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := docs.Man(cmd.Root(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s\n", args[0])
			return nil
		},
	}
}
