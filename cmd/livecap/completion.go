package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/livecap/livecap/internal/encoder"
)

// flagValues are the values shell completion offers per flag name, with
// a description after the tab (zsh and fish show it). A device index is
// offered as 0 only: listing real devices could prompt for camera
// permission on macOS at every <Tab>.
var flagValues = map[string][]string{
	"format":       {"mp4\tfragmented MP4", "mov\tfragmented QuickTime"},
	"video":        {"test\tbuilt-in test pattern", "screen\tthe main display", "none\tno video", "0\tthe first camera (livecap devices lists them)"},
	"audio":        {"test\tbuilt-in test tone", "system\twhat the machine plays", "none\tno audio", "0\tthe first microphone (livecap devices lists them)"},
	"log-format":   {"auto\tconsole on a terminal, else JSON", "console", "json"},
	"log-level":    {"debug", "info", "warn", "error"},
	"rate-control": {"cbr\tconstant, padded with filler", "vbr\tthe average, capped per second"},
	"h264-profile": {"baseline", "main", "high"},
	"disk-check":   {"warn", "refuse\texit 3", "off"},
}

// dirFlags complete as directories, fileFlags as files with these
// extensions (none: any file).
var (
	dirFlags  = map[string]bool{"record": true}
	fileFlags = map[string][]string{"input": {"mp4", "mov", "m4v"}, "dest-file": nil, "key-file": nil, "config": {"yaml", "yml", "toml"}, "log-file": nil}
)

// addCompletions registers value completion for every flag of the tree
// named above (called once the tree is built).
func addCompletions(root *cobra.Command) {
	values := map[string][]string{}
	for k, v := range flagValues {
		values[k] = v
	}
	values["preset"] = encoder.Presets
	seen := map[*pflag.Flag]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if seen[f] {
				return
			}
			seen[f] = true
			var fn func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)
			switch {
			case values[f.Name] != nil:
				vs := values[f.Name]
				fn = cobra.FixedCompletions(vs, cobra.ShellCompDirectiveNoFileComp)
			case dirFlags[f.Name]:
				fn = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return nil, cobra.ShellCompDirectiveFilterDirs
				}
			default:
				ext, ok := fileFlags[f.Name]
				if !ok {
					return
				}
				fn = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					if len(ext) == 0 {
						return nil, cobra.ShellCompDirectiveDefault
					}
					return ext, cobra.ShellCompDirectiveFilterFileExt
				}
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, fn)
		}
		c.PersistentFlags().VisitAll(visit)
		c.LocalNonPersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
