package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/session"
)

func newDevicesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List cameras, microphones and screens (and the test source)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			devs := testsrc.Devices()
			if p := capture.PlatformCapture(); p != nil {
				pd, err := p.Devices()
				if err != nil {
					return &session.DeviceError{Err: err}
				}
				devs = append(pd, devs...)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(devs)
			}
			for _, d := range devs {
				fmt.Fprintf(out, "%-6s %-3d %-32s %s", d.Kind, d.Index, d.Name, d.ID)
				if len(d.Formats) > 0 {
					fmt.Fprintf(out, "  [%s]", strings.Join(d.Formats, ", "))
				}
				fmt.Fprintln(out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
