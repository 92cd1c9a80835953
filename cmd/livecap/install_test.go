package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the real command tree in-process and returns its stdout.
func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestVersionFlag: `livecap --version` is the line `livecap version` prints.
func TestVersionFlag(t *testing.T) {
	flag, err := runRoot(t, "--version")
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := runRoot(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if flag != cmd || !strings.HasPrefix(flag, "livecap ") || !strings.Contains(flag, "commit ") {
		t.Errorf("--version printed %q, version printed %q", flag, cmd)
	}
}

// Shell completion offers flag values: what `livecap stream --format <Tab>`
// shows, through cobra's __complete (what the bash/zsh/fish scripts call).
func TestCompletionFlagValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
		dir  string // the directive line
	}{
		{[]string{"stream", "--format", ""}, []string{"mp4", "mov"}, ":4"},
		{[]string{"stream", "--video", ""}, []string{"test", "screen", "none", "0"}, ":4"},
		{[]string{"stream", "--audio", ""}, []string{"test", "system", "none", "0"}, ":4"},
		{[]string{"stream", "--rate-control", ""}, []string{"cbr", "vbr"}, ":4"},
		{[]string{"stream", "--h264-profile", ""}, []string{"baseline", "main", "high"}, ":4"},
		{[]string{"stream", "--preset", ""}, []string{"ultrafast", "veryfast", "veryslow"}, ":4"},
		{[]string{"stream", "--log-format", ""}, []string{"auto", "console", "json"}, ":4"},
		{[]string{"devices", "--log-format", ""}, []string{"auto", "console", "json"}, ":4"},
		{[]string{"stream", "--record", ""}, nil, ":16"}, // FilterDirs
		{[]string{"ctl", "--record", ""}, nil, ":16"},
		{[]string{"stream", "--input", ""}, []string{"mp4", "mov"}, ":8"}, // FilterFileExt
	} {
		out, err := runRoot(t, append([]string{"__complete"}, c.args...)...)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		got := map[string]bool{}
		directive := ""
		for _, l := range lines {
			if strings.HasPrefix(l, ":") {
				directive = l
				continue
			}
			got[strings.SplitN(l, "\t", 2)[0]] = true
		}
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("%v: completions %q lack %s", c.args, lines, w)
			}
		}
		if directive != c.dir {
			t.Errorf("%v: directive %q, want %q (%q)", c.args, directive, c.dir, lines)
		}
	}
}

// `livecap man DIR` writes one page per command, each with the version
// `--version` prints.
func TestManPagesPerCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := runRoot(t, "man", dir); err != nil {
		t.Fatal(err)
	}
	ver, _ := versionInfo()
	for _, page := range []string{"livecap.1", "livecap-stream.1", "livecap-devices.1", "livecap-analyze.1", "livecap-ctl.1", "livecap-config-check.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(string(b), `"livecap `+ver+`"`) {
			t.Errorf("%s: no version %q in %.200q", page, ver, b)
		}
	}
}
