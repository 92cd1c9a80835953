package main

import (
	"bytes"
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
