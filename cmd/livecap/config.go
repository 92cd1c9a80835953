package main

// Configure once: the configuration file, its profiles and the LIVECAP_*
// variables applied to every command's flags (internal/config), and
// `livecap config check`.

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/livecap/livecap/internal/config"
	"github.com/livecap/livecap/internal/session"
)

// configEnv reads the environment for settings; config check swaps it to
// check a file on its own.
var configEnv = os.LookupEnv

const configHelp = `Settings: every flag can also be set by an environment variable, LIVECAP_ and the
flag's name in capitals with '_' for '-' (LIVECAP_BITRATE=6M, LIVECAP_RTMP="URL URL"),
and in the configuration file (--config PATH, default ` + "`$XDG_CONFIG_HOME/livecap/config.yaml`" + `
on Linux, ~/Library/Application Support/livecap/config.yaml on macOS), with named
profiles (--profile NAME). A flag given on the command line wins over its variable,
which wins over the profile, which wins over the file. See livecap config --help.`

func addConfigFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.String("config", "", "configuration file (default "+displayDefault()+"; LIVECAP_CONFIG)")
	pf.String("profile", "", "use the named profile of the configuration file (LIVECAP_PROFILE)")
}

func displayDefault() string {
	if p := config.DefaultPath(); p != "" {
		return p
	}
	return "none: no user config folder"
}

// knownFlags lists, per command name, the flags it accepts.
func knownFlags(root *cobra.Command) config.Known {
	k := config.Known{Commands: map[string]map[string]bool{}}
	persistent := map[string]bool{}
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) { persistent[f.Name] = true })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root {
			m := k.Commands[c.Name()]
			if m == nil {
				m = map[string]bool{}
				k.Commands[c.Name()] = m
			}
			for n := range persistent {
				m[n] = true
			}
			c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) { m[f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return k
}

// configFile finds and loads the file for cmd: --config, LIVECAP_CONFIG,
// or the default path (which may be absent).
func configFile(cmd *cobra.Command) (*config.File, error) {
	path, explicit := "", true
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
		if strings.TrimSpace(path) == "" {
			return nil, usageErr("invalid --config %q: must be a file path", path)
		}
	} else if v, ok := configEnv(config.EnvName("config")); ok && v != "" {
		path = v
	} else {
		path, explicit = config.DefaultPath(), false
		if path == "" {
			return nil, nil
		}
	}
	f, err := config.Load(path, explicit, knownFlags(cmd.Root()))
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return f, nil
}

// applyConfig sets the flags of cmd that the command line left unset
// (livecap config itself reads no settings: it checks them).
func applyConfig(cmd *cobra.Command) error {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Name() == "config" && c.Parent() == cmd.Root() {
			return nil
		}
	}
	f, err := configFile(cmd)
	if err != nil {
		return err
	}
	profile := ""
	if fl := cmd.Flags().Lookup("profile"); fl != nil && fl.Changed {
		profile = fl.Value.String()
	} else if v, ok := configEnv(config.EnvName("profile")); ok {
		profile = v
	}
	if profile != "" {
		if err := config.CheckProfileName(profile); err != nil {
			return usageErr("%v", err)
		}
	}
	if _, err := config.Apply(cmd.Flags(), cmd.Name(), f, profile, configEnv); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "The configuration file: settings, profiles, check",
		Long: `livecap reads its settings from a YAML file (--config PATH, LIVECAP_CONFIG, or by
default ` + displayDefault() + `). Keys are flag names without the dashes: at the
top for every command that has the flag, in a section named after a command for that
command alone, and under profiles for livecap stream --profile NAME:

  record: ~/Movies/livecap          # stream records there; ctl finds the session there
  stream:
    bitrate: 6M
    rtmp: [rtmp://a.rtmp.youtube.com/live2/KEY]
  profiles:
    lecture:
      format: mov
      segment: 30m
      expected-duration: 2h

` + configHelp,
	}
	check := &cobra.Command{
		Use:   "check [PATH]",
		Short: "Check a configuration file (default: the one livecap reads) and every profile in it",
		Long: `Check a configuration file: its syntax, that every key is a flag, and the values of
the file and of each profile with the same checks (and one-line errors) as livecap
stream. Environment variables are not applied. Exit 0 when it is good, 2 when not.
Like livecap stream, a record folder named in the file is created if missing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := config.DefaultPath()
			if len(args) == 1 {
				path = args[0]
			}
			return checkConfig(cmd, path)
		},
	}
	cmd.AddCommand(check)
	return cmd
}

func checkConfig(cmd *cobra.Command, path string) error {
	if path == "" {
		return usageErr("no configuration file: give its PATH")
	}
	f, err := config.Load(path, true, knownFlags(cmd.Root()))
	if err != nil {
		return usageErr("%v", err)
	}
	saved := configEnv
	configEnv = func(string) (string, bool) { return "", false }
	defer func() { configEnv = saved }()
	for _, p := range append([]string{""}, f.ProfileNames()...) {
		// The stream command validates the settings as on a real start,
		// with a runner that starts nothing.
		root := newRootCmdWith(func(*cobra.Command, *streamFlags, session.Config) error { return nil })
		args := []string{"stream", "--config", path}
		if p != "" {
			args = append(args, "--profile", p)
		}
		root.SetArgs(args)
		root.SetOut(cmd.OutOrStdout())
		root.SetErr(cmd.ErrOrStderr())
		if err := root.Execute(); err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				return err
			}
			where := ""
			if p != "" {
				where = fmt.Sprintf("profile %q: ", p)
			}
			msg := ue.Error()
			if strings.HasPrefix(msg, "config ") {
				return ue
			}
			return usageErr("config %s: %s%s", path, where, msg)
		}
	}
	names := f.ProfileNames()
	if len(names) == 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "config %s: ok (no profiles)\n", path)
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "config %s: ok (profiles: %s)\n", path, strings.Join(names, ", "))
	}
	return nil
}
