package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDestinationNames(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("SECRETFILEKEY\n"), 0o600)
	destFile := filepath.Join(dir, "dests")
	os.WriteFile(destFile, []byte("# comment\nfile1=rtmp://h/live/SECRETF1\n"), 0o600)
	t.Setenv("LC_TEST_DESTS", "env1=srt://h:9000?streamid=SECRETE1")
	t.Setenv("LC_TEST_KEY", "SECRETENVKEY")
	code, cfg, msg := execute(t, "stream", "--record", dir,
		"--rtmp", "yt=rtmp://h/live/SECRETA", "--rtmp", "rtmp://h/live/SECRETB", "--rtmp", "rtmp://h/live/SECRETC",
		"--dest-env", "LC_TEST_DESTS", "--dest-file", destFile, "--server", "obs=rtmp://o/app", "--key-file", keyFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	var got []string
	for _, d := range cfg.Destinations {
		got = append(got, d.Redacted())
	}
	want := []string{"yt=rtmp://h/live/****", "2=rtmp://h/live/****", "3=rtmp://h/live/****",
		"env1=srt://h:9000?streamid=****", "file1=rtmp://h/live/****", "obs=rtmp://o/app/****"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("destinations %q, want %q", got, want)
	}
	if k := cfg.Destinations[5].Key; k != "SECRETFILEKEY" {
		t.Errorf("--key-file key %q", k)
	}
	code, cfg, _ = execute(t, "stream", "--record", dir, "--server", "rtmp://o/app", "--key-env", "LC_TEST_KEY")
	if code != 0 || cfg.Destinations[0].Key != "SECRETENVKEY" || cfg.Destinations[0].Redacted() != "rtmp://o/app/****" {
		t.Errorf("--key-env: exit %d %+v", code, cfg.Destinations)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rtmp", "a=rtmp://h/l/SECRET1", "--rtmp", "a=rtmp://h/l/SECRET2"}, `destination name "a" is used twice`},
		{[]string{"--rtmp", "1=rtmp://h/l/SECRET1"}, `invalid --rtmp: invalid destination name "1"`},
		{[]string{"--rtmp", "yt=srt://h:1?streamid=SECRET"}, "invalid --rtmp"},
		{[]string{"--server", "rtmp://o/app"}, "give its stream key with --key-file PATH or --key-env NAME"},
		{[]string{"--key-env", "LC_TEST_KEY"}, "they need --server URL"},
		{[]string{"--server", "rtmp://o/app", "--key-env", "LC_TEST_KEY", "--key-file", keyFile}, "give one of them"},
		{[]string{"--server", "rtmp://o/app", "--key-env", "LC_NOT_SET_ANYWHERE"}, `invalid --key-env "LC_NOT_SET_ANYWHERE": the environment variable is not set`},
		{[]string{"--server", "rtmp://o/app", "--key-file", filepath.Join(dir, "nope")}, "no such file or directory"},
		{[]string{"--server", "ftp://o/app", "--key-env", "LC_TEST_KEY"}, "invalid --server"},
	} {
		code, _, msg := execute(t, append([]string{"stream", "--record", dir}, tc.args...)...)
		if code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "SECRET") || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d %q, want 2 and %q, no secret", tc.args, code, msg, tc.want)
		}
	}
}
