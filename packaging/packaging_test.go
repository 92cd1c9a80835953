// Package packaging holds the release configuration (.goreleaser.yaml at
// the repository root), the Homebrew formula and their helper scripts.
// GoReleaser and Homebrew do not run on the Linux CI machines, so these
// tests check what can be checked here: the YAML parses and says what the
// release needs, the helper scripts parse and the prebuilt wrapper works.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type build struct {
	ID        string   `yaml:"id"`
	Main      string   `yaml:"main"`
	Binary    string   `yaml:"binary"`
	Goos      []string `yaml:"goos"`
	Goarch    []string `yaml:"goarch"`
	Env       []string `yaml:"env"`
	Ldflags   []string `yaml:"ldflags"`
	Tool      string   `yaml:"tool"`
	Overrides []struct {
		Goos   string   `yaml:"goos"`
		Goarch string   `yaml:"goarch"`
		Env    []string `yaml:"env"`
	} `yaml:"overrides"`
}

type config struct {
	Version int `yaml:"version"`
	Before  struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds   []build `yaml:"builds"`
	Archives []struct {
		ID      string   `yaml:"id"`
		IDs     []string `yaml:"ids"`
		Formats []string `yaml:"formats"`
		Files   []any    `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
	Release struct {
		GitHub struct{ Owner, Name string } `yaml:"github"`
	} `yaml:"release"`
	Nfpms []struct {
		IDs         []string `yaml:"ids"`
		PackageName string   `yaml:"package_name"`
		Formats     []string `yaml:"formats"`
		Maintainer  string   `yaml:"maintainer"`
		Description string   `yaml:"description"`
		Deps        []string `yaml:"dependencies"`
		Contents    []struct {
			Src string `yaml:"src"`
			Dst string `yaml:"dst"`
		} `yaml:"contents"`
	} `yaml:"nfpms"`
	Brews []struct {
		Name       string `yaml:"name"`
		IDs        []string
		Repository struct{ Owner, Name string } `yaml:"repository"`
		Install    string                       `yaml:"install"`
		Test       string                       `yaml:"test"`
		Deps       []struct {
			Name string `yaml:"name"`
		} `yaml:"dependencies"`
	} `yaml:"brews"`
}

func loadConfig(t *testing.T) config {
	t.Helper()
	b, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return c
}

func TestGoreleaserConfig(t *testing.T) {
	c := loadConfig(t)
	if c.Version != 2 {
		t.Errorf("version %d, want 2", c.Version)
	}
	targets := map[string]build{}
	for _, b := range c.Builds {
		if b.Main != "./cmd/livecap" || b.Binary != "livecap" {
			t.Errorf("build %s: main %q binary %q", b.ID, b.Main, b.Binary)
		}
		if !slices.Contains(b.Env, "CGO_ENABLED=1") {
			t.Errorf("build %s: no CGO_ENABLED=1 (VideoToolbox and libavcodec need cgo)", b.ID)
		}
		ld := strings.Join(b.Ldflags, " ")
		for _, x := range []string{"-X main.version={{.Version}}", "-X main.commit={{.ShortCommit}}"} {
			if !strings.Contains(ld, x) {
				t.Errorf("build %s: ldflags %q lack %q", b.ID, ld, x)
			}
		}
		for _, os := range b.Goos {
			for _, arch := range b.Goarch {
				targets[os+"/"+arch] = b
			}
		}
		for _, o := range b.Overrides {
			if !slices.Contains(o.Env, "CGO_ENABLED=1") {
				t.Errorf("build %s override %s/%s drops CGO_ENABLED=1 (override env replaces the build's)", b.ID, o.Goos, o.Goarch)
			}
		}
	}
	var got []string
	for k := range targets {
		got = append(got, k)
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "darwin/amd64 darwin/arm64 linux/amd64" {
		t.Errorf("targets %v", got)
	}
	if tool := targets["linux/amd64"].Tool; tool != "" {
		if _, err := os.Stat(filepath.Join("..", tool)); err != nil {
			t.Errorf("linux build tool %q: %v", tool, err)
		}
	}
	for _, h := range c.Before.Hooks {
		if f := strings.Fields(h); len(f) > 1 && f[0] == "sh" {
			if _, err := os.Stat(filepath.Join("..", f[1])); err != nil {
				t.Errorf("before hook %q: %v", h, err)
			}
		}
	}
	if len(c.Archives) == 0 || c.Checksum.NameTemplate == "" {
		t.Error("no archives or checksum")
	}
	for _, a := range c.Archives {
		if !slices.Equal(a.Formats, []string{"tar.gz"}) {
			t.Errorf("archive %s formats %v", a.ID, a.Formats)
		}
	}
	if len(c.Brews) != 0 {
		t.Error("brews is deprecated in GoReleaser v2: the formula alone (packaging/homebrew/livecap.rb)")
	}
	if c.Release.GitHub.Owner != "livecap" || c.Release.GitHub.Name != "livecap" {
		t.Errorf("release.github %+v: CI checkouts have no GitHub remote to infer it from", c.Release.GitHub)
	}
	if !slices.Contains(c.Before.Hooks, "sh packaging/gen-docs.sh build {{ .Version }}") {
		t.Errorf("before hooks %q: the man pages must carry the release's version", c.Before.Hooks)
	}
}

// TestDebianPackage: the .deb names every library livecap needs at run
// time. nfpm computes none, and FFmpeg's libraries are dlopened, so ldd
// on the binary would not show them: they are listed by hand, and each
// must be a package this Debian knows (apt-cache, when present).
func TestDebianPackage(t *testing.T) {
	c := loadConfig(t)
	if len(c.Nfpms) != 1 {
		t.Fatalf("%d nfpms, want 1", len(c.Nfpms))
	}
	n := c.Nfpms[0]
	if !slices.Equal(n.IDs, []string{"linux"}) || !slices.Equal(n.Formats, []string{"deb"}) {
		t.Errorf("nfpm ids %v formats %v, want [linux] [deb]", n.IDs, n.Formats)
	}
	if n.Maintainer == "" || n.Description == "" || n.PackageName != "livecap" {
		t.Errorf("nfpm package %q maintainer %q description %q", n.PackageName, n.Maintainer, n.Description)
	}
	want := []string{"libc6", "libavcodec59", "libavutil57", "libavdevice59", "libavformat59", "libswscale6", "libswresample4", "libsrt1.5-openssl"}
	for _, d := range want {
		if !slices.Contains(n.Deps, d) {
			t.Errorf("nfpm dependencies %v lack %s", n.Deps, d)
		}
	}
	dsts := map[string]bool{}
	for _, f := range n.Contents {
		dsts[f.Dst] = true
		if f.Src == "" || !strings.HasPrefix(f.Src, "build/") {
			t.Errorf("nfpm contents %+v: not from gen-docs.sh's build/", f)
		}
	}
	for _, d := range []string{"/usr/share/man/man1/", "/usr/share/bash-completion/completions/livecap",
		"/usr/share/zsh/vendor-completions/_livecap", "/usr/share/fish/vendor_completions.d/livecap.fish"} {
		if !dsts[d] {
			t.Errorf("nfpm contents lack %s", d)
		}
	}
	// livecap dlopens libavcodec.so.<major of the headers it was built
	// with>: the package must depend on that same major.
	if _, err := exec.LookPath("pkg-config"); err == nil {
		for _, lib := range []string{"libavcodec", "libavutil", "libavdevice", "libavformat", "libswscale", "libswresample"} {
			out, err := exec.Command("pkg-config", "--modversion", lib).Output()
			if err != nil {
				continue
			}
			major, _, _ := strings.Cut(strings.TrimSpace(string(out)), ".")
			if !slices.Contains(n.Deps, lib+major) {
				t.Errorf("built against %s %s, so it dlopens %s.so.%s: the package must depend on %s%s (has %v)", lib, strings.TrimSpace(string(out)), lib, major, lib, major, n.Deps)
			}
		}
	}
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache: package names not checked against the archive")
	}
	out, err := exec.Command("apt-cache", append([]string{"show", "--no-all-versions"}, want...)...).CombinedOutput()
	for _, d := range want {
		if !strings.Contains(string(out), "Package: "+d+"\n") {
			t.Errorf("apt-cache show %s: not in this Debian's archive (%v)", d, err)
		}
	}
}

// TestGoreleaserCheck runs `goreleaser check` (v2) when it is installed
// (CI: scripts/setup.sh installs the pinned version from the Go proxy).
func TestGoreleaserCheck(t *testing.T) {
	bin, err := exec.LookPath("goreleaser")
	if err != nil {
		// `go install` puts it in GOBIN or GOPATH/bin, often not on PATH.
		if out, e := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); e == nil {
			if f := strings.Split(strings.TrimSpace(string(out)), "\n"); len(f) == 2 {
				for _, dir := range []string{f[0], filepath.Join(f[1], "bin")} {
					if p := filepath.Join(dir, "goreleaser"); dir != "" && dir != "bin" {
						if _, e := os.Stat(p); e == nil {
							bin, err = p, nil
							break
						}
					}
				}
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("goreleaser not installed (scripts/setup.sh installs it)")
		}
		t.Skip("goreleaser not installed")
	}
	cmd := exec.Command(bin, "check")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "DEPRECATED") {
		t.Errorf("goreleaser check reports a deprecation:\n%s", out)
	}
}

// TestFormula checks the hand-written formula's essentials (Ruby is not
// installed on CI; where it is, the syntax is checked too).
func TestFormula(t *testing.T) {
	b, err := os.ReadFile("homebrew/livecap.rb")
	if err != nil {
		t.Fatal(err)
	}
	f := string(b)
	for _, s := range []string{
		"class Livecap < Formula",
		`depends_on "go" => :build`,
		`depends_on "pkg-config" => :build`,
		`depends_on "srt"`,
		"on_linux do\n    # libavcodec (libx264 + AAC) is the Linux encoder; macOS uses VideoToolbox.\n    depends_on \"ffmpeg\"",
		`"go", "build"`,
		"-X main.version=",
		"-X main.commit=",
		`generate_completions_from_executable(bin/"livecap", "completion")`,
		`#{bin}/livecap --version`,
		`"stream", "--video", "test", "--audio", "test"`,
		`"--record", testpath/"rec", "--duration", "2s"`,
		`Dir[testpath/"rec/livecap-*.mp4"]`,
	} {
		if !strings.Contains(f, s) {
			t.Errorf("formula lacks %q", s)
		}
	}
	if strings.Contains(f, "livecap devices") {
		t.Error("formula test runs `livecap devices`, which can prompt for camera permission on macOS")
	}
	if ruby, err := exec.LookPath("ruby"); err == nil {
		if out, err := exec.Command(ruby, "-c", "homebrew/livecap.rb").CombinedOutput(); err != nil {
			t.Errorf("ruby -c: %v\n%s", err, out)
		}
	}
}

func TestScriptsParse(t *testing.T) {
	for _, s := range []string{"gen-docs.sh", "prebuilt-go.sh"} {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
		if st, err := os.Stat(s); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
	}
}

// TestPrebuiltGo runs the wrapper the way GoReleaser runs its build tool.
func TestPrebuiltGo(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs a linux/amd64 executable to hand in")
	}
	self, err := os.Executable() // this test binary: an x86-64 ELF file
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "dist", "linux_amd64_v1", "livecap")
	run := func(bin string, args ...string) (string, error) {
		cmd := exec.Command("./prebuilt-go.sh", args...)
		cmd.Env = append(os.Environ(), "LIVECAP_LINUX_BINARY="+bin)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	args := []string{"build", "-trimpath", "-ldflags=-s -w -X main.version=1.0.0", "-o", out, "./cmd/livecap"}
	if msg, err := run(self, args...); err != nil {
		t.Fatalf("%v: %s", err, msg)
	}
	a, _ := os.ReadFile(self)
	b, _ := os.ReadFile(out)
	if len(a) == 0 || string(a) != string(b) {
		t.Error("output is not a copy of LIVECAP_LINUX_BINARY")
	}
	if st, _ := os.Stat(out); st == nil || st.Mode()&0o100 == 0 {
		t.Error("output not executable")
	}

	if msg, err := run("", args...); err == nil || !strings.Contains(msg, "LIVECAP_LINUX_BINARY") {
		t.Errorf("unset: %v %s", err, msg)
	}
	script := filepath.Join(dir, "x.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if msg, err := run(script, args...); err == nil || !strings.Contains(msg, "not a 64-bit ELF") {
		t.Errorf("non-ELF: %v %s", err, msg)
	}
	if msg, err := run(self, "build", "./cmd/livecap"); err == nil || !strings.Contains(msg, "no -o") {
		t.Errorf("no -o: %v %s", err, msg)
	}
}
