package darwincheck

// These tests keep scripts/sdkstub honest where it shapes what cmd/cgo
// sees, and keep the headers cgo reads free of Apple types. They are plain
// Go (no zig) and run on every platform.

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// appleTypeIDs lists every X for which Apple's macOS SDK (14.2 headers;
// CoreMedia and VideoToolbox 12.0, the same for these) declares a
// `CFTypeID XGetTypeID(void)`, in the frameworks the stub models. Types not
// listed have none: CVBuffer, CVImageBuffer, CMVideoFormatDescription,
// CMAudioFormatDescription, CMClockOrTimebase, VTSession, AudioConverter.
var appleTypeIDs = map[string]bool{
	// CoreFoundation (the ones the stub may model)
	"CFAllocator": true, "CFArray": true, "CFBoolean": true, "CFData": true, "CFDictionary": true,
	"CFError": true, "CFNull": true, "CFNumber": true, "CFSet": true, "CFString": true, "CFURL": true,
	"CFDate": true, "CFRunLoop": true, "CFUUID": true, "CFBag": true, "CFAttributedString": true,
	// CoreVideo
	"CVPixelBuffer": true, "CVPixelBufferPool": true, "CVDisplayLink": true, "CVMetalTexture": true,
	"CVMetalTextureCache": true, "CVOpenGLBuffer": true, "CVOpenGLBufferPool": true,
	"CVOpenGLTexture": true, "CVOpenGLTextureCache": true,
	// CoreMedia
	"CMBlockBuffer": true, "CMBufferQueue": true, "CMClock": true, "CMFormatDescription": true,
	"CMMemoryPool": true, "CMSampleBuffer": true, "CMSimpleQueue": true, "CMTimebase": true,
	// VideoToolbox
	"VTCompressionSession": true, "VTDecompressionSession": true, "VTFrameSilo": true,
	"VTMultiPassStorage": true, "VTPixelTransferSession": true,
}

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var (
	reRefTypedef = regexp.MustCompile(`typedef\s[^;]*?\b([A-Z][A-Za-z0-9]*)Ref\s*;`)
	reTypeID     = regexp.MustCompile(`\bCFTypeID\s+([A-Z][A-Za-z0-9]*)GetTypeID\s*\(\s*void\s*\)`)
	reComment    = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
)

// stubDecls reads every stub header: the X of each `typedef ... XRef;` and
// of each `CFTypeID XGetTypeID(void)`.
func stubDecls(t *testing.T) (refs, typeIDs map[string]string) {
	t.Helper()
	refs, typeIDs = map[string]string{}, map[string]string{}
	dir := filepath.Join(repoRoot(t), "scripts", "sdkstub")
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".h") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := reComment.ReplaceAllString(string(b), "")
		rel, _ := filepath.Rel(dir, p)
		for _, m := range reRefTypedef.FindAllStringSubmatch(src, -1) {
			refs[m[1]] = rel
		}
		for _, m := range reTypeID.FindAllStringSubmatch(src, -1) {
			typeIDs[m[1]] = rel
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return refs, typeIDs
}

// TestStubTypeIDsFollowApple: for every XRef the stub declares, the stub
// declares XGetTypeID exactly when Apple does. Else cgo maps C.XRef to a
// pointer on Linux and to uintptr on a Mac (or the other way round), and
// code that passes the check fails to compile there (issue: the
// CVPixelBufferRef/CVBufferRef mismatch in internal/vt).
func TestStubTypeIDsFollowApple(t *testing.T) {
	refs, typeIDs := stubDecls(t)
	if len(refs) < 10 {
		t.Fatalf("found only %d XRef typedefs in scripts/sdkstub: the parser is broken", len(refs))
	}
	var names []string
	for x := range refs {
		names = append(names, x)
	}
	sort.Strings(names)
	for _, x := range names {
		if x == "CFType" || strings.Contains(x, "Mutable") {
			continue // cgo's own rules: CFTypeRef always uintptr; CFMutableX follows CFX
		}
		_, stub := typeIDs[x]
		if apple := appleTypeIDs[x]; apple != stub {
			if apple {
				t.Errorf("%s declares %sRef but not %sGetTypeID, which Apple declares: on a Mac C.%sRef is uintptr, here a pointer", refs[x], x, x, x)
			} else {
				t.Errorf("%s declares %sGetTypeID, which Apple does not: here C.%sRef is uintptr, on a Mac a pointer", typeIDs[x], x, x)
			}
		}
	}
	for x, f := range typeIDs {
		if _, ok := refs[x]; !ok {
			t.Errorf("%s declares %sGetTypeID without the %sRef typedef", f, x, x)
		}
	}
	// The pair from the issue, spelled out.
	if _, ok := typeIDs["CVPixelBuffer"]; !ok {
		t.Error("the stub lacks CVPixelBufferGetTypeID (Apple's CVPixelBuffer.h declares it)")
	}
	for _, x := range []string{"CVBuffer", "CVImageBuffer"} {
		if _, ok := typeIDs[x]; ok {
			t.Errorf("the stub declares %sGetTypeID; Apple does not", x)
		}
	}
}

// darwinCgoFiles returns every *_darwin.go file of the module that imports "C".
func darwinCgoFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			switch fi.Name() {
			case ".git", ".cache", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || !strings.Contains(filepath.Base(p), "darwin") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "import \"C\"") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var reCRef = regexp.MustCompile(`\bC\.([A-Z][A-Za-z0-9]*)Ref\b`)

// TestDarwinGoRefsModelled: every C.XRef that darwin Go code names is
// declared by the stub, with XGetTypeID exactly when Apple has it, so the
// stub check gives it the Go type a Mac gives it.
func TestDarwinGoRefsModelled(t *testing.T) {
	refs, typeIDs := stubDecls(t)
	files := darwinCgoFiles(t)
	if len(files) == 0 {
		t.Fatal("no darwin cgo files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reCRef.FindAllStringSubmatch(string(b), -1) {
			x := m[1]
			if _, ok := refs[x]; !ok && x != "CFType" {
				t.Errorf("%s names C.%sRef, which scripts/sdkstub does not declare", f, x)
				continue
			}
			if _, stub := typeIDs[x]; appleTypeIDs[x] != stub {
				t.Errorf("%s names C.%sRef: Apple declares %sGetTypeID = %v, the stub %v", f, x, x, appleTypeIDs[x], stub)
			}
		}
	}
}

// stdHeaders are the only <...> headers a cgo-visible header may include.
var stdHeaders = map[string]bool{"stdint.h": true, "stddef.h": true, "stdlib.h": true, "stdbool.h": true, "string.h": true}

var (
	reInclude = regexp.MustCompile(`#\s*(?:include|import)\s*([<"])([^>"]+)[>"]`)
	// Apple type names: framework-prefixed identifiers, XRef handles and
	// MacTypes/ObjC scalar types.
	reAppleType = regexp.MustCompile(`\b(?:(?:CF|CV|CM|VT|AV|SC|NS|CG|MTL|IOSurface|Audio|AU)[A-Z][A-Za-z0-9_]*|[A-Za-z0-9_]+Ref|OSStatus|OSType|OSErr|FourCharCode|Boolean|UInt8|UInt16|UInt32|UInt64|SInt8|SInt16|SInt32|SInt64|Float32|Float64|BOOL|NSInteger|NSUInteger|CGFloat|dispatch_[a-z_]+_t)\b`)
)

// appleTypesIn returns the problems of one cgo-visible C text: includes of
// non-standard system headers, and Apple type names outside comments.
func appleTypesIn(src string) []string {
	var bad []string
	for _, m := range reInclude.FindAllStringSubmatch(src, -1) {
		if m[1] == "<" && !stdHeaders[m[2]] {
			bad = append(bad, "includes <"+m[2]+">")
		}
	}
	code := reComment.ReplaceAllString(src, "")
	seen := map[string]bool{}
	for _, w := range reAppleType.FindAllString(code, -1) {
		if !seen[w] {
			seen[w] = true
			bad = append(bad, "names "+w)
		}
	}
	return bad
}

// preamble returns the C part of the cgo preamble of a Go file (the
// comment right above import "C", without its #cgo lines).
func preamble(src string) string {
	var keep []string
	for _, l := range strings.Split(rawPreamble(src), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#cgo") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func rawPreamble(src string) string {
	i := strings.Index(src, "import \"C\"")
	if i < 0 {
		return ""
	}
	head := strings.TrimRight(src[:i], " \t\n")
	if strings.HasSuffix(head, "*/") {
		if j := strings.LastIndex(head, "/*"); j >= 0 {
			return head[j+2 : len(head)-2]
		}
	}
	var lines []string
	ls := strings.Split(head, "\n")
	for k := len(ls) - 1; k >= 0 && strings.HasPrefix(strings.TrimSpace(ls[k]), "//"); k-- {
		lines = append([]string{strings.TrimPrefix(strings.TrimSpace(ls[k]), "//")}, lines...)
	}
	return strings.Join(lines, "\n")
}

func TestAppleTypeCheckerCatches(t *testing.T) {
	bad := "#include <stdint.h>\n#include <CoreVideo/CoreVideo.h>\nint32_t f(CVPixelBufferRef pb, UInt32 n); // CMTime in a comment is fine\n"
	got := strings.Join(appleTypesIn(bad), "; ")
	for _, want := range []string{"<CoreVideo/CoreVideo.h>", "CVPixelBufferRef", "UInt32"} {
		if !strings.Contains(got, want) {
			t.Errorf("checker missed %s in a bad header (got %q)", want, got)
		}
	}
	if strings.Contains(got, "CMTime") {
		t.Errorf("checker flagged a name inside a comment: %q", got)
	}
	if got := appleTypesIn("#include <stdint.h>\nint32_t f(void *pb, uintptr_t h, int64_t t);\n"); len(got) != 0 {
		t.Errorf("checker flagged a clean header: %q", got)
	}
}

// TestCgoHeadersNameNoAppleType: the preambles of darwin cgo files, and the
// local headers they include (recursively), name no Apple type and include
// no Apple header. cgo type-checks these; what the SDK declares around an
// Apple type (XGetTypeID) would decide its Go type. The .c/.m files cast.
func TestCgoHeadersNameNoAppleType(t *testing.T) {
	files := darwinCgoFiles(t)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pre := preamble(string(b))
		for _, p := range appleTypesIn(pre) {
			t.Errorf("%s: cgo preamble %s", f, p)
		}
		queue := []string{}
		for _, m := range reInclude.FindAllStringSubmatch(reComment.ReplaceAllString(pre, ""), -1) {
			if m[1] == `"` {
				queue = append(queue, filepath.Join(filepath.Dir(f), m[2]))
			}
		}
		done := map[string]bool{}
		for len(queue) > 0 {
			h := queue[0]
			queue = queue[1:]
			if done[h] {
				continue
			}
			done[h] = true
			hb, err := os.ReadFile(h)
			if err != nil {
				t.Errorf("%s includes %s: %v", f, h, err)
				continue
			}
			checked++
			for _, p := range appleTypesIn(string(hb)) {
				t.Errorf("%s (cgo-visible through %s) %s: use void *, uintptr_t or fixed-width integers and cast in the .c/.m file", h, filepath.Base(f), p)
			}
			for _, m := range reInclude.FindAllStringSubmatch(reComment.ReplaceAllString(string(hb), ""), -1) {
				if m[1] == `"` {
					queue = append(queue, filepath.Join(filepath.Dir(h), m[2]))
				}
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked %d cgo-visible headers, want at least vt_darwin.h and avf_darwin.h", checked)
	}
}
