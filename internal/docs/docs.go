// Package docs generates livecap's man pages and shell completion scripts
// from the cobra command tree, so they never drift from the real flags.
//
// The release (goreleaser's before hooks, the Homebrew formula) runs the
// hidden `livecap man DIR` and `livecap completion bash|zsh|fish` commands,
// which call into this package.
package docs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Man writes one man page per command into dir (created if missing):
// livecap.1 for the root and livecap-SUB.1 for each visible subcommand
// (hidden commands and help topics are left out). The date is
// SOURCE_DATE_EPOCH when set, so release builds are reproducible; there is
// no "Auto generated" footer, for the same reason. See man.go.
func Man(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: cannot create folder %q: %w", dir, err)
	}
	date, err := manDate()
	if err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	source := "livecap"
	if root.Version != "" {
		source += " " + root.Version
	}
	h := manPage{title: "LIVECAP", section: "1", date: date, source: source, manual: "livecap manual"}
	if err := manTree(root, h, dir); err != nil {
		return fmt.Errorf("man pages in %q: %w", dir, err)
	}
	return nil
}

// Shells are the shells Completion writes scripts for.
var Shells = []string{"bash", "zsh", "fish"}

// Completion writes the completion script for shell ("bash", "zsh" or
// "fish") to w, with descriptions. It is what cobra's built-in
// `completion` command prints; having it here lets the release write the
// files without running the binary for each shell.
func Completion(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	}
	return fmt.Errorf("completion: unknown shell %q; use bash, zsh or fish", shell)
}

// CompletionFiles writes livecap.bash, _livecap (zsh) and livecap.fish
// into dir, under the names each shell's completion folder expects.
func CompletionFiles(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("completions: cannot create folder %q: %w", dir, err)
	}
	name := root.Name()
	files := map[string]string{"bash": name + ".bash", "zsh": "_" + name, "fish": name + ".fish"}
	for _, sh := range Shells {
		var b bytes.Buffer
		if err := Completion(root, sh, &b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, files[sh]), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("completions: %w", err)
		}
	}
	return nil
}
