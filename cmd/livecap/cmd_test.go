package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/analyze"
	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/exitcode"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// execute runs the command tree in-process with the stream command's
// session swapped for a stub that records the config it was given.
func execute(t *testing.T, args ...string) (code int, cfg *session.Config, stderr string) {
	t.Helper()
	var got *session.Config
	root := newRootCmdWith(func(_ *cobra.Command, _ *streamFlags, c session.Config) error {
		got = &c
		return nil
	})
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return exitCode(err), got, msg
}

func TestStreamFlags(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := []string{"stream", "--record", dir}
	cases := []struct {
		name string
		args []string
		code int
		msg  string // in the error, when code != 0
	}{
		{"defaults", rec, 0, ""},
		{"unknown flag", append(rec, "--no-such-flag"), 2, "unknown flag"},
		{"unknown command", []string{"strem"}, 2, "unknown command"},
		{"extra argument", append(rec, "extra"), 2, "unknown command"},
		{"nothing to do", []string{"stream"}, 2, "nothing to do"},
		{"size too small", append(rec, "--size", "14x14"), 2, "invalid --size"},
		{"size odd", append(rec, "--size", "321x180"), 2, "invalid --size"},
		{"fps 0", append(rec, "--fps", "0"), 2, "invalid --fps 0"},
		{"fps 121", append(rec, "--fps", "121"), 2, "invalid --fps 121"},
		{"fps 29.97", append(rec, "--fps", "29.97"), 0, ""},
		{"fps 30000/1001", append(rec, "--fps", "30000/1001"), 0, ""},
		{"fps 240/2", append(rec, "--fps", "240/2"), 0, ""},
		{"fps 121/1", append(rec, "--fps", "242/2"), 2, "invalid --fps 121"},
		{"fps words", append(rec, "--fps", "fast"), 2, "use a number such as 30, 29.97 or 30000/1001"},
		{"bitrate", append(rec, "--bitrate", "fast"), 2, "invalid --bitrate"},
		{"sample rate", append(rec, "--sample-rate", "22050"), 2, "invalid --sample-rate"},
		{"channels", append(rec, "--channels", "6"), 2, "invalid --channels"},
		{"segment too short", append(rec, "--segment", "5s"), 2, "invalid --segment"},
		{"keyint too long", append(rec, "--keyint", "61s"), 2, "invalid --keyint"},
		{"format", append(rec, "--format", "mkv"), 2, "invalid --format"},
		{"disk check", append(rec, "--disk-check", "maybe"), 2, "invalid --disk-check"},
		{"retry max under initial", append(rec, "--retry-initial", "10s", "--retry-max", "1s"), 2, "invalid --retry-max"},
		{"record is a file", []string{"stream", "--record", notDir}, 2, "it is a file"},
		{"no media", append(rec, "--video", "none", "--audio", "none"), 2, "nothing to capture"},
		{"loop without input", append(rec, "--loop"), 2, "invalid --loop"},
		{"hook without record", []string{"stream", "--rtmp", "rtmp://h/app/key", "--on-segment", "true"}, 2, "needs --record"},
		{"log format", append([]string{"--log-format", "xml"}, rec...), 2, "invalid --log-format"},
		{"rtmp scheme", []string{"stream", "--rtmp", "http://h/app/SECRETKEY"}, 2, "invalid --rtmp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, msg := execute(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d (%s), want %d", code, msg, c.code)
			}
			if c.msg != "" && !strings.Contains(msg, c.msg) {
				t.Errorf("error %q does not say %q", msg, c.msg)
			}
			if strings.Contains(msg, "SECRETKEY") {
				t.Errorf("error %q shows the stream key", msg)
			}
		})
	}
}

// The flags reach the session as the values they name.
func TestStreamConfig(t *testing.T) {
	dir := t.TempDir()
	code, c, msg := execute(t, "stream", "--record", dir, "--size", "640x360", "--fps", "25", "--bitrate", "2.5M",
		"--audio-bitrate", "96k", "--segment", "90s", "--keyint", "1s", "--duration", "1m", "--format", "mov",
		"--rtmp", "rtmp://127.0.0.1/live/key", "--srt", "srt://127.0.0.1:9000?streamid=x", "--video", "test", "--audio", "none",
		"--max-retries", "-1")
	if code != 0 || c == nil {
		t.Fatalf("exit %d: %s", code, msg)
	}
	if c.Width != 640 || c.Height != 360 || c.FPS != 25 || c.Bitrate != 2_500_000 || c.AudioBitrate != 96_000 ||
		c.Segment != 90*time.Second || c.KeyInterval != time.Second || c.Duration != time.Minute || c.Format != "mov" ||
		c.Video != "test" || c.Audio != "none" || len(c.Destinations) != 2 || c.RecordDir != dir || c.MaxRetries != 0 {
		t.Errorf("config %+v", *c)
	}
	// --fps keeps an NTSC rate exact; FPS is it rounded.
	for _, in := range []string{"29.97", "30000/1001"} {
		_, c, msg = execute(t, "stream", "--record", dir, "--fps", in)
		if c == nil || c.Rate.Num != 30000 || c.Rate.Den != 1001 || c.FPS != 30 {
			t.Errorf("--fps %s: %+v %s", in, c, msg)
		}
	}
	// Streaming only: a destination gives up after 10 failed connects by default.
	_, c, _ = execute(t, "stream", "--rtmp", "rtmp://127.0.0.1/live/key")
	if c == nil || c.MaxRetries != 10 {
		t.Errorf("streaming only: MaxRetries %+v, want 10", c)
	}
}

// exitCode is the one place errors become exit codes.
func TestExitCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	cases := []struct {
		err  error
		code int
	}{
		{nil, exitcode.OK},
		{&runError{errors.New("i/o")}, exitcode.Failure},
		{errors.New("cobra: unknown flag"), exitcode.Usage},
		{usageErr("invalid --fps"), exitcode.Usage},
		{&runError{&session.ConfigError{Err: errors.New("bad input")}}, exitcode.Usage},
		{&runError{pipeline.ErrNoMedia}, exitcode.Usage},
		{&runError{&session.DeviceError{Err: errors.New("no camera")}}, exitcode.Device},
		{&runError{&session.DeviceError{Err: wrap(capture.ErrPermission)}}, exitcode.Permission},
		{&runError{&session.DeviceError{Err: wrap(capture.ErrSourceLost)}}, exitcode.Device},
		{&runError{&session.DiskRefusedError{Msg: "low"}}, exitcode.Disk},
		{&runError{&session.RecordingError{Err: wrap(record.ErrDiskLow)}}, exitcode.Disk},
		{&runError{&session.RecordingError{Err: wrap(record.ErrDiskFull)}}, exitcode.Disk},
		{&runError{&session.RecordingError{Err: errors.New("EIO")}}, exitcode.Failure},
		{&runError{&pipeline.EncoderError{Err: errors.New("x264")}}, exitcode.Encoder},
		{&runError{session.ErrNoStreamInfo}, exitcode.Encoder},
		{&runError{&session.GaveUpError{Err: errors.New("refused")}}, exitcode.AllGaveUp},
		{&runError{session.ErrInterrupted}, exitcode.Interrupted},
		{&runError{&session.SkippedError{Skipped: 10, Produced: 100}}, exitcode.Skipped},
		{&runError{wrap(analyze.ErrUsage)}, exitcode.Usage},
		{&runError{&analyze.CheckError{Failed: []string{"max offset"}}}, exitcode.Check},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.code {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}

// A real session in-process: the test source on a virtual clock, recorded.
func TestStreamRuns(t *testing.T) {
	dir := t.TempDir()
	old := os.Stderr
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	os.Stderr = null // the session's logs
	defer func() { os.Stderr = old }()
	code := run([]string{"stream", "--video", "test", "--audio", "test", "--size", "160x90", "--fast", "--duration", "2s",
		"--record", dir, "--log-format", "json", "--disk-check", "off"})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	// --size below the test source's smallest picture: refused before anything starts.
	if code := run([]string{"stream", "--video", "test", "--size", "32x32", "--fast", "--duration", "1s", "--record", dir}); code != exitcode.Usage {
		t.Errorf("--size 32x32 --video test: exit %d, want 2", code)
	}
}
