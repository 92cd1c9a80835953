package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

var known = Known{Commands: map[string]map[string]bool{
	"stream": {"bitrate": true, "rtmp": true, "fps": true, "record": true, "fast": true, "log-level": true},
	"ctl":    {"record": true, "timeout": true, "log-level": true},
}}

func flags() (*pflag.FlagSet, *string, *[]string, *int, *bool, *string) {
	fs := pflag.NewFlagSet("stream", pflag.ContinueOnError)
	b := fs.String("bitrate", "4M", "")
	r := fs.StringArray("rtmp", nil, "")
	f := fs.Int("fps", 30, "")
	fast := fs.Bool("fast", false, "")
	rec := fs.String("record", "", "")
	fs.String("config", "", "")
	fs.String("profile", "", "")
	fs.Duration("timeout", time.Second, "")
	return fs, b, r, f, fast, rec
}

const file = `
record: /base/rec
bitrate: 2M
stream:
  bitrate: 3M
  rtmp: [yt=rtmp://a/b/KEY1, rtmp://c/d/KEY2]
profiles:
  lecture:
    fps: 25
    stream: {bitrate: 5M}
  quick:
    fast: true
    record: /quick
`

func TestPrecedence(t *testing.T) {
	f, err := Parse("c.yaml", []byte(file), known)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	// File: the command's section wins over the flat key.
	fs, b, r, fps, fast, rec := flags()
	if _, err := Apply(fs, "stream", f, "", getenv); err != nil {
		t.Fatal(err)
	}
	if *b != "3M" || *rec != "/base/rec" || len(*r) != 2 || (*r)[0] != "yt=rtmp://a/b/KEY1" || *fps != 30 || *fast {
		t.Errorf("file: bitrate %s record %s rtmp %v fps %d fast %v", *b, *rec, *r, *fps, *fast)
	}
	// A profile over the file; its command section over its flat keys.
	fs, b, _, fps, _, _ = flags()
	if _, err := Apply(fs, "stream", f, "lecture", getenv); err != nil {
		t.Fatal(err)
	}
	if *b != "5M" || *fps != 25 {
		t.Errorf("profile: bitrate %s fps %d", *b, *fps)
	}
	// The environment over the profile; lists split on whitespace.
	env["LIVECAP_BITRATE"] = "6M"
	env["LIVECAP_RTMP"] = "rtmp://x/y/K rtmp://z/w/K"
	fs, b, r, _, _, _ = flags()
	o, err := Apply(fs, "stream", f, "lecture", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if *b != "6M" || len(*r) != 2 || (*r)[1] != "rtmp://z/w/K" || o["bitrate"].String() != "from LIVECAP_BITRATE" {
		t.Errorf("env: bitrate %s rtmp %v origin %v", *b, *r, o["bitrate"])
	}
	// A flag on the command line over everything.
	fs, b, r, _, _, _ = flags()
	if err := fs.Parse([]string{"--bitrate", "7M", "--rtmp", "rtmp://cli/a/K"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(fs, "stream", f, "lecture", getenv); err != nil {
		t.Fatal(err)
	}
	if *b != "7M" || len(*r) != 1 || (*r)[0] != "rtmp://cli/a/K" {
		t.Errorf("flag: bitrate %s rtmp %v", *b, *r)
	}
	// Another command takes the flat keys only, not stream's section.
	cfs := pflag.NewFlagSet("ctl", pflag.ContinueOnError)
	crec := cfs.String("record", "", "")
	cfs.String("bitrate", "", "") // not a ctl flag in known, but present here: flat key applies
	if _, err := Apply(cfs, "ctl", f, "quick", func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	if *crec != "/quick" {
		t.Errorf("ctl record %q", *crec)
	}
	// Bad values name the value, where it came from and what is allowed.
	env = map[string]string{"LIVECAP_FPS": "thirty"}
	fs, _, _, _, _, _ = flags()
	if _, err := Apply(fs, "stream", f, "", getenv); err == nil || err.Error() != `invalid --fps "thirty" from LIVECAP_FPS: must be a whole number` {
		t.Errorf("bad env value: %v", err)
	}
	env = map[string]string{}
	if _, err := Apply(fs, "stream", f, "nope", getenv); err == nil || !strings.Contains(err.Error(), `no profile "nope": must be one of lecture, quick`) {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := Apply(fs, "stream", nil, "lecture", getenv); err == nil || !strings.Contains(err.Error(), "no configuration file") {
		t.Errorf("profile without a file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"bitrate: [1M, 2M]\n":                 "", // a list for a plain flag is refused at Apply, not here
		"bitrat: 4M\n":                        `line 1: unknown setting "bitrat": must be the name of a flag`,
		"stream:\n  timeout: 1s\n":            `line 2: unknown setting "timeout" for livecap stream`,
		"profiles:\n  a b: {fps: 1}\n":        `invalid profile name "a b"`,
		"profiles:\n  x: 3\n":                 `profile "x" must be a mapping`,
		"profiles:\n  x:\n    nope: 1\n":      `line 3: profile "x": unknown setting "nope"`,
		"fps: 30\nfps: 25\n":                  `line 2: setting "fps" appears twice`,
		"- a\n- b\n":                          "must be a mapping of settings",
		"fps: [30\n":                          "not valid YAML",
		"fps:\n":                              "line 1: fps has no value",
		"rtmp:\n  - {a: b}\n":                 "each value must be a plain value",
		"profile: lecture\n":                  "--profile NAME or LIVECAP_PROFILE",
		"config: other.yaml\n":                `unknown setting "config"`,
		"":                                    "",
		"# only a comment\n":                  "",
		"profiles:\n  a: {}\n  a: {fps: 1}\n": "", // yaml.v3 itself refuses duplicate keys
	}
	for in, want := range cases {
		_, err := Parse("c.yaml", []byte(in), known)
		switch {
		case want == "" && err != nil && !strings.Contains(in, "a: {}"):
			t.Errorf("%q: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want %q", in, err, want)
		case err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "config c.yaml: ")):
			t.Errorf("%q: not one line naming the file: %q", in, err)
		}
	}
	fs, _, _, _, _, _ := flags()
	f, _ := Parse("c.yaml", []byte("fps: [30, 25]\n"), known)
	if _, err := Apply(fs, "stream", f, "", func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "one value, not a list of 2") {
		t.Errorf("list for a plain flag: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if f, err := Load(filepath.Join(dir, "none.yaml"), false, known); f != nil || err != nil {
		t.Errorf("missing default file: %v %v", f, err)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml"), true, known); err == nil || !strings.Contains(err.Error(), "cannot read it: no such file or directory") {
		t.Errorf("missing explicit file: %v", err)
	}
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte(file), 0o600)
	f, err := Load(p, true, known)
	if err != nil || len(f.Profiles) != 2 {
		t.Fatalf("%v %v", f, err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir)
	if DefaultPath() != filepath.Join(dir, "livecap", "config.yaml") {
		t.Errorf("DefaultPath %s", DefaultPath())
	}
	if EnvName("on-segment-wait") != "LIVECAP_ON_SEGMENT_WAIT" {
		t.Error(EnvName("on-segment-wait"))
	}
}
