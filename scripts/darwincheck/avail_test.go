package darwincheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	reStubMacOS  = regexp.MustCompile(`macos\(([0-9., ]+)\)`)
	reAppleMacOS = regexp.MustCompile(`macos\(([0-9., ]+)\)|_AVAILABLE_STARTING\(([0-9.]+)\)`)
	reSelector   = regexp.MustCompile(`(\w+):\s*\(`)
	reLastIdent  = regexp.MustCompile(`(\w+)\s*(?:\([^()]*\))?\s*$`)
)

// stubKey is what identifies a stub declaration in Apple's headers: the
// selector of a method (all its keywords), else the name declared last
// before the annotation (a property, a constant, a function, an enum case).
func stubKey(decl string) []string {
	decl = strings.TrimSpace(decl)
	if strings.HasPrefix(decl, "-") || strings.HasPrefix(decl, "+") {
		var keys []string
		for _, m := range reSelector.FindAllStringSubmatch(decl, -1) {
			keys = append(keys, m[1]+":")
		}
		if len(keys) > 0 {
			return keys
		}
	}
	if m := reLastIdent.FindStringSubmatch(decl); m != nil {
		return []string{m[1]}
	}
	return nil
}

// TestStubAvailabilityFollowsSDK: every stub declaration annotated with a
// macOS availability carries the same macOS version(s) as the real SDK's
// declaration. Needs a real SDK: SDK=/path/to/MacOSX.sdk (Xcode's, or one
// assembled as README "What was verified where" says); skipped without.
func TestStubAvailabilityFollowsSDK(t *testing.T) {
	sdk := os.Getenv("SDK")
	if sdk == "" {
		t.Skip("SDK=/path/to/MacOSX.sdk not set: nothing to compare the stub's availability with")
	}
	fw := filepath.Join(sdk, "System", "Library", "Frameworks")
	stubDir := filepath.Join(repoRoot(t), "scripts", "sdkstub")
	checked := 0
	err := filepath.Walk(stubDir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".h") {
			return err
		}
		framework := strings.TrimSuffix(filepath.Base(filepath.Dir(filepath.Dir(p))), ".framework")
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		apple := appleLines(t, filepath.Join(fw, framework+".framework", "Headers"))
		for _, line := range strings.Split(reComment.ReplaceAllString(string(b), ""), "\n") {
			i := strings.Index(line, "API_")
			m := reStubMacOS.FindStringSubmatch(line)
			if i <= 0 || m == nil || strings.HasPrefix(strings.TrimSpace(line), "}") {
				continue // an annotation on its own line (a class) or on an enum: not compared
			}
			keys := stubKey(line[:i])
			if len(keys) == 0 {
				continue
			}
			want := norm(m[1])
			found := false
			for _, al := range apple {
				if !hasAll(al, keys) {
					continue
				}
				// The annotation that follows the declared name (a joined
				// line may start with its class's own).
				after := al
				if loc := regexp.MustCompile(`\b` + regexp.QuoteMeta(keys[len(keys)-1])).FindStringIndex(al); loc != nil {
					after = al[loc[1]:]
				}
				am := reAppleMacOS.FindStringSubmatch(after)
				if am == nil {
					am = reAppleMacOS.FindStringSubmatch(al) // annotated before the name
				}
				if am == nil {
					continue
				}
				got := norm(am[1] + am[2])
				found = true
				checked++
				if got != want {
					t.Errorf("%s: %s is macos(%s) in the stub, macos(%s) in the SDK:\n  stub:  %s\n  apple: %s",
						filepath.Base(p), strings.Join(keys, ""), want, got, strings.TrimSpace(line), strings.TrimSpace(al))
				}
				break
			}
			if !found {
				t.Errorf("%s: %s (macos(%s)) has no annotated declaration in the SDK's %s headers", filepath.Base(p), strings.Join(keys, ""), want, framework)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("compared %d annotations: the SDK at %s is not complete enough", checked, sdk)
	}
	t.Logf("%d availability annotations of the stub match %s", checked, sdk)
}

func norm(v string) string { return strings.ReplaceAll(v, " ", "") }

func hasAll(line string, keys []string) bool {
	for _, k := range keys {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(k)).MatchString(line) {
			return false
		}
	}
	return true
}

// appleLines reads every header of one framework, one declaration per
// line (continuation lines are joined up to the ';').
func appleLines(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.h"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		src := reComment.ReplaceAllString(string(b), "")
		var cur strings.Builder
		for _, l := range strings.Split(src, "\n") {
			cur.WriteString(l)
			cur.WriteString(" ")
			if strings.Contains(l, ";") || strings.Contains(l, "{") || strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				out = append(out, cur.String())
				cur.Reset()
			}
		}
	}
	return out
}

// TestTypeIDListFollowsSDK: the list of Apple's XGetTypeID that the stub
// test relies on (appleTypeIDs) is the real SDK's, for every XRef the stub
// declares. Needs SDK=/path/to/MacOSX.sdk; skipped without.
func TestTypeIDListFollowsSDK(t *testing.T) {
	sdk := os.Getenv("SDK")
	if sdk == "" {
		t.Skip("SDK=/path/to/MacOSX.sdk not set")
	}
	declared := map[string]bool{}
	for _, fw := range []string{"CoreFoundation", "CoreVideo", "CoreMedia", "VideoToolbox", "AudioToolbox"} {
		files, _ := filepath.Glob(filepath.Join(sdk, "System", "Library", "Frameworks", fw+".framework", "Headers", "*.h"))
		if len(files) == 0 {
			t.Fatalf("%s has no %s headers", sdk, fw)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range reTypeID.FindAllStringSubmatch(reComment.ReplaceAllString(string(b), ""), -1) {
				declared[m[1]] = true
			}
		}
	}
	refs, _ := stubDecls(t)
	for x := range refs {
		if x == "CFType" || strings.Contains(x, "Mutable") {
			continue
		}
		if declared[x] != appleTypeIDs[x] {
			t.Errorf("%sGetTypeID: the SDK declares it = %v, appleTypeIDs says %v", x, declared[x], appleTypeIDs[x])
		}
	}
	for x := range appleTypeIDs {
		if !declared[x] {
			t.Errorf("appleTypeIDs lists %s, the SDK declares no %sGetTypeID", x, x)
		}
	}
}
