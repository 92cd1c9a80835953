package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by release builds: -ldflags "-X main.version=v1.2.3 -X main.commit=abc".
var (
	version = ""
	commit  = ""
)

func versionInfo() (ver, rev string) {
	ver, rev = version, commit
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if ver == "" {
		ver = bi.Main.Version
		if ver == "" || ver == "(devel)" {
			ver = "devel"
		}
	}
	if rev == "" {
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" && dirty {
			rev += "-dirty"
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, c := versionInfo()
			fmt.Fprintln(cmd.OutOrStdout(), versionLine(v, c))
			return nil
		},
	}
}

// versionLine is the one line `livecap version` and `livecap --version` print.
func versionLine(ver, rev string) string {
	return fmt.Sprintf("livecap %s (commit %s, %s, %s/%s)", ver, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
