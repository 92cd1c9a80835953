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
			var notes []string
			if p := capture.PlatformCapture(); p != nil {
				var pd []capture.Device
				if l, ok := p.(interface {
					DevicesNotes() ([]capture.Device, []string)
				}); ok {
					// Linux: what could not be listed (no pulse server,
					// no DISPLAY) is a note, not a failure.
					pd, notes = l.DevicesNotes()
				} else {
					var err error
					if pd, err = p.Devices(); err != nil {
						return &session.DeviceError{Err: err}
					}
				}
				devs = append(pd, devs...)
			}
			for _, n := range notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(devs)
			}
			for _, d := range devs {
				def := " "
				if d.Default {
					def = "*"
				}
				fmt.Fprintf(out, "%-6s %-3d%s %-40s %s", d.Kind, d.Index, def, d.Name, d.ID)
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
