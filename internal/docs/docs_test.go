package docs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// tree is a small stand-in for livecap's command tree, with the parts the
// pages must carry: subcommands, flags, examples and an exit code table in
// the root's Long text.
func tree() *cobra.Command {
	root := &cobra.Command{
		Use:     "livecap",
		Short:   "Capture, encode once, record and stream",
		Version: "1.2.3",
		Long: `livecap captures camera and microphone, encodes once, and records and streams.

# EXIT CODES
0
: success, including a graceful stop

2
: bad usage

3
: not enough free disk
`,
	}
	stream := &cobra.Command{
		Use:     "stream",
		Short:   "Record and stream",
		Example: "  livecap stream --record ~/Movies/livecap --on-segment 'upload --bucket b'",
		Run:     func(*cobra.Command, []string) {},
	}
	stream.Flags().String("on-segment", "", "run `CMD` with each closed segment's path as its last argument")
	stream.Flags().String("record", "", "record into `DIR`")
	devices := &cobra.Command{Use: "devices", Short: "List capture devices", Run: func(*cobra.Command, []string) {}}
	version := &cobra.Command{Use: "version", Short: "Print the version", Run: func(*cobra.Command, []string) {}}
	hidden := &cobra.Command{Use: "man DIR", Short: "Write man pages", Hidden: true, Run: func(*cobra.Command, []string) {}}
	root.AddCommand(stream, devices, version, hidden)
	return root
}

func TestMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01: reproducible
	dir := filepath.Join(t.TempDir(), "man1")
	if err := Man(tree(), dir); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := "livecap-devices.1 livecap-stream.1 livecap-version.1 livecap.1"
	if strings.Join(names, " ") != want {
		t.Errorf("pages %q, want %q (the hidden man command has none)", names, want)
	}
	root := read(t, filepath.Join(dir, "livecap.1"))
	for _, s := range []string{`.TH "LIVECAP" "1" "Jan 2026" "livecap 1.2.3" "livecap manual"`,
		"livecap - Capture, encode once", ".SH EXIT CODES", "not enough free disk",
		"livecap-stream(1)", "livecap-devices(1)", "livecap-version(1)"} {
		if !strings.Contains(root, s) {
			t.Errorf("livecap.1 lacks %q:\n%s", s, root)
		}
	}
	if strings.Contains(root, "livecap-man") || strings.Contains(root, "Auto generated") {
		t.Errorf("livecap.1 names the hidden command or carries the generator footer:\n%s", root)
	}
	stream := read(t, filepath.Join(dir, "livecap-stream.1"))
	for _, s := range []string{"on-segment", "CMD", ".SH EXAMPLE", "livecap(1)"} {
		if !strings.Contains(stream, s) {
			t.Errorf("livecap-stream.1 lacks %q:\n%s", s, stream)
		}
	}
	// man itself must render it without complaint, when it is installed.
	if _, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command("man", "--warnings", "-l", filepath.Join(dir, "livecap.1"))
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
		out, err := cmd.CombinedOutput()
		// Drop the overstrike (X\bX) grotty uses for bold on a non-terminal.
		text := regexp.MustCompile(".\x08").ReplaceAllString(string(out), "")
		if err != nil || !strings.Contains(text, "EXIT CODES") || strings.Contains(text, "warning") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
}

func TestManBadDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	err := Man(tree(), filepath.Join(f, "man1"))
	if err == nil || !strings.Contains(err.Error(), "cannot create folder") {
		t.Errorf("Man under a file: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	root := tree()
	for _, sh := range Shells {
		var b bytes.Buffer
		if err := Completion(root, sh, &b); err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		out := b.String()
		if len(out) < 500 || !strings.Contains(out, "livecap") {
			t.Errorf("%s completion is short or does not name livecap (%d bytes)", sh, len(out))
		}
	}
	if err := Completion(root, "tcsh", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"tcsh"`) {
		t.Errorf("unknown shell: %v", err)
	}

	// Cobra's completion scripts ask the binary for candidates at run time
	// (__complete): check that this answers with the commands and flags.
	var b bytes.Buffer
	root.SetOut(&b)
	root.SetArgs([]string{"__complete", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"stream\tRecord and stream", "devices", "version", "completion"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("__complete lacks %q:\n%s", s, b.String())
		}
	}
	if strings.Contains(b.String(), "\nman\t") || strings.HasPrefix(b.String(), "man\t") {
		t.Errorf("__complete offers the hidden man command:\n%s", b.String())
	}
	b.Reset()
	root.SetArgs([]string{"__complete", "stream", "--on"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "--on-segment") {
		t.Errorf("flag completion lacks --on-segment:\n%s", b.String())
	}
}

// TestCompletionFiles writes the three files and, where the shell is
// installed, has it parse its script.
func TestCompletionFiles(t *testing.T) {
	dir := t.TempDir()
	if err := CompletionFiles(tree(), dir); err != nil {
		t.Fatal(err)
	}
	check := map[string][]string{
		"livecap.bash": {"bash", "-n"},
		"_livecap":     {"zsh", "-n"},
		"livecap.fish": {"fish", "--no-execute"},
	}
	for f, sh := range check {
		p := filepath.Join(dir, f)
		if s := read(t, p); !strings.Contains(s, "livecap") {
			t.Errorf("%s does not name livecap", f)
		}
		if _, err := exec.LookPath(sh[0]); err != nil {
			t.Logf("%s not installed: %s not syntax-checked", sh[0], f)
			continue
		}
		if out, err := exec.Command(sh[0], append(sh[1:], p)...).CombinedOutput(); err != nil {
			t.Errorf("%s rejects %s: %v\n%s", sh[0], f, err, out)
		}
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
