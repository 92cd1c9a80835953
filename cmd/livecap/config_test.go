package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/livecap/livecap/internal/config"
)

// The configuration file, profiles and LIVECAP_* variables reach every
// command's flags with flag > env > profile > file; config check uses the
// same checks as stream.
func TestConfigPrecedence(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	rec := filepath.Join(home, "rec")
	if err := os.MkdirAll(filepath.Join(home, "livecap"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "record: " + rec + "\nstream:\n  bitrate: 3M\n  segment: 20m\nprofiles:\n  lecture:\n    bitrate: 5M\n    format: mov\n"
	if err := os.WriteFile(filepath.Join(home, "livecap", "config.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	code, cfg, msg := execute(t, "stream")
	if code != 0 || cfg.Bitrate != 3_000_000 || cfg.RecordDir != rec || cfg.Segment.Minutes() != 20 || cfg.Format != "mp4" {
		t.Fatalf("default file: exit %d %q, %+v", code, msg, cfg)
	}
	code, cfg, _ = execute(t, "stream", "--profile", "lecture")
	if code != 0 || cfg.Bitrate != 5_000_000 || cfg.Format != "mov" || cfg.Segment.Minutes() != 20 {
		t.Fatalf("profile: exit %d, %+v", code, cfg)
	}
	t.Setenv("LIVECAP_BITRATE", "6M")
	code, cfg, _ = execute(t, "stream", "--profile", "lecture")
	if code != 0 || cfg.Bitrate != 6_000_000 {
		t.Fatalf("env over profile: exit %d, %+v", code, cfg)
	}
	code, cfg, _ = execute(t, "stream", "--profile", "lecture", "--bitrate", "7M")
	if code != 0 || cfg.Bitrate != 7_000_000 {
		t.Fatalf("flag over env: exit %d, %+v", code, cfg)
	}
	t.Setenv("LIVECAP_PROFILE", "lecture")
	t.Setenv("LIVECAP_BITRATE", "")
	os.Unsetenv("LIVECAP_BITRATE")
	code, cfg, _ = execute(t, "stream")
	if code != 0 || cfg.Format != "mov" {
		t.Fatalf("LIVECAP_PROFILE: exit %d, %+v", code, cfg)
	}
	os.Unsetenv("LIVECAP_PROFILE")
	// Bad values: one line, exit 2, from wherever they come.
	t.Setenv("LIVECAP_BITRATE", "lots")
	if code, _, msg := execute(t, "stream"); code != 2 || !strings.Contains(msg, `invalid --bitrate "lots"`) {
		t.Errorf("bad env value: exit %d %q", code, msg)
	}
	os.Unsetenv("LIVECAP_BITRATE")
	t.Setenv("LIVECAP_FPS", "x")
	if code, _, msg := execute(t, "stream"); code != 2 || msg != `invalid --fps "x" from LIVECAP_FPS: must be a frame rate such as 30, 29.97 or 30000/1001` {
		t.Errorf("bad env type: exit %d %q", code, msg)
	}
	os.Unsetenv("LIVECAP_FPS")
	if code, _, msg := execute(t, "stream", "--profile", "nope"); code != 2 || !strings.Contains(msg, `no profile "nope": must be one of lecture`) {
		t.Errorf("unknown profile: exit %d %q", code, msg)
	}
	if code, _, msg := execute(t, "stream", "--config", filepath.Join(home, "missing.yaml")); code != 2 || !strings.Contains(msg, "cannot read it") {
		t.Errorf("missing --config: exit %d %q", code, msg)
	}
	// ctl takes the flat record key: it looks for the session there.
	if code, _, msg := execute(t, "ctl", "status"); code != 1 || !strings.Contains(msg, filepath.Join(rec, "livecap.sock")) {
		t.Errorf("ctl with record from the file: exit %d %q", code, msg)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(path string) (int, string, string) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"config", "check", path})
		err := root.Execute()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		return exitCode(err), msg, out.String()
	}
	rec := filepath.Join(dir, "rec")
	good := write("record: " + rec + "\nprofiles:\n  a: {format: mov}\n  b: {stream: {segment: 10m}}\n")
	if code, msg, out := check(good); code != 0 || !strings.Contains(out, "ok (profiles: a, b)") {
		t.Errorf("good file: exit %d %q %q", code, msg, out)
	}
	// The environment is not applied: a bad LIVECAP_* does not fail a good file.
	t.Setenv("LIVECAP_FPS", "x")
	if code, msg, _ := check(good); code != 0 {
		t.Errorf("good file with a bad env: exit %d %q", code, msg)
	}
	for body, want := range map[string]string{
		"record: " + rec + "\nprofiles:\n  a: {format: avi}\n": `profile "a": invalid --format "avi": must be mp4 or mov`,
		"record: " + rec + "\nsegment: 5s\n":                   `invalid --segment "5s": must be a duration of at least 10s`,
		"record: " + rec + "\nfps: fast\n":                     `invalid --fps "fast" from ` + filepath.Join(dir, "c.yaml") + `: must be a frame rate such as 30, 29.97 or 30000/1001`,
		"bitrat: 4M\n":                                         `line 1: unknown setting "bitrat"`,
		"record: " + rec + "\nrtmp: [ftp://h/a/SECRETKEY]\n":   `invalid --rtmp`,
	} {
		code, msg, _ := check(write(body))
		if code != 2 || !strings.Contains(msg, want) || strings.Contains(msg, "\n") || strings.Contains(msg, "SECRETKEY") {
			t.Errorf("%q: exit %d %q, want 2 and %q", body, code, msg, want)
		}
	}
	if code, msg, _ := check(filepath.Join(dir, "none.yaml")); code != 2 || !strings.Contains(msg, "cannot read it") {
		t.Errorf("missing file: exit %d %q", code, msg)
	}
}

// Every flag of every command is a setting, with no code per flag: each
// one, given through its LIVECAP_* variable (its own default value, so
// that the command stays valid), reaches the flag.
func TestEveryFlagIsASetting(t *testing.T) {
	root := newRootCmd()
	n := 0
	for _, c := range root.Commands() {
		c.Flags().AddFlagSet(root.PersistentFlags())
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if config.Skip[f.Name] {
				return
			}
			env := map[string]string{config.EnvName(f.Name): f.DefValue}
			if f.Value.Type() == "stringArray" || f.Value.Type() == "stringSlice" {
				env[config.EnvName(f.Name)] = "x"
			}
			fs := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
			fs.AddFlag(&pflag.Flag{Name: f.Name, Value: f.Value, DefValue: f.DefValue})
			origins, err := config.Apply(fs, c.Name(), nil, "", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil && f.DefValue != "[]" {
				t.Errorf("%s --%s from %s=%q: %v", c.Name(), f.Name, config.EnvName(f.Name), f.DefValue, err)
				return
			}
			if origins[f.Name].Env != config.EnvName(f.Name) {
				t.Errorf("%s --%s: not set from %s", c.Name(), f.Name, config.EnvName(f.Name))
			}
			n++
		})
	}
	if n < 40 {
		t.Errorf("only %d flags checked", n)
	}
}
