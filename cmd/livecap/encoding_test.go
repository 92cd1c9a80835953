package main

import (
	"strings"
	"testing"
)

func TestEncodingFlags(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	rec := []string{"stream", "--record", dir}
	yt := []string{"--rtmp", "yt=rtmp://h/live/SECRETK", "--rtmp", "rtmp://h2/live/SECRETK2"}
	code, cfg, msg := execute(t, append(rec, "--preset", "slow", "--h264-profile", "main", "--rate-control", "cbr")...)
	if code != 0 || cfg.Tuning.Preset != "slow" || cfg.Tuning.Profile != "main" || cfg.Tuning.RateControl != "cbr" {
		t.Fatalf("exit %d %q %+v", code, msg, cfg.Tuning)
	}
	code, _, msg = execute(t, append(append(rec, yt...), "--bitrate", "6M", "--max-bitrate", "yt=8M", "--max-bitrate", "2=7M", "--keyint", "4s")...)
	if code != 0 {
		t.Fatalf("limits met: exit %d %q", code, msg)
	}
	if code, _, _ := execute(t, append(rec, "--keyint", "10s")...); code != 0 {
		t.Errorf("a long keyint with no destination: exit %d", code)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "turbo"}, `invalid --preset "turbo": must be one of ultrafast, superfast, veryfast`},
		{[]string{"--h264-profile", "extended"}, `invalid --h264-profile "extended": must be baseline, main or high`},
		{[]string{"--rate-control", "abr"}, `invalid --rate-control "abr": must be cbr or vbr`},
		{append(yt, "--keyint", "5s"), "invalid --keyint 5s with a destination: ingest servers reject keyframes further apart than 4s"},
		{append(yt, "--bitrate", "6M", "--max-bitrate", "6M"), "invalid --bitrate 6M + --audio-bitrate 128k for destination yt: 6128k in all, over its --max-bitrate 6M"},
		{append(yt, "--bitrate", "6M", "--max-bitrate", "2=6M"), "for destination 2:"},
		{append(yt, "--max-bitrate", "tw=6M"), `invalid --max-bitrate "tw=6M": no destination "tw" (have yt, 2)`},
		{append(yt, "--max-bitrate", "yt=lots"), `invalid --max-bitrate "lots"`},
		{[]string{"--max-bitrate", "6M"}, "invalid --max-bitrate: it needs a destination"},
	} {
		code, _, msg := execute(t, append(append([]string{}, rec...), tc.args...)...)
		if code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "SECRET") {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, msg, tc.want)
		}
	}
}
