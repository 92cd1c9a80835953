// Package darwincheck tests scripts/darwin-check.sh: that it compiles the
// darwin cgo/Objective-C code against the SDK stub, and that it fails when
// that code sends an undeclared message or passes a wrong argument type,
// which is what makes the check worth running on Linux.
package darwincheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func skip(t *testing.T) {
	t.Helper()
	if os.Getenv("LIVECAP_SKIP_DARWIN") == "1" {
		t.Skip("LIVECAP_SKIP_DARWIN=1")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the darwin cross-compile check runs on linux/amd64 (on a Mac, build natively)")
	}
}

// check runs the script in dir (a module) for the given arches.
func check(t *testing.T, dir, arches string, pkgs ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(root(t), "scripts/darwin-check.sh")}, pkgs...)...)
	cmd.Env = append(os.Environ(), "DARWIN_ARCHES="+arches, "CI=true")
	if dir != "" {
		cmd.Env = append(cmd.Env, "DARWIN_CHECK_DIR="+dir)
	}
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("darwin-check %s (%s) in %v", strings.Join(pkgs, " "), arches, time.Since(start).Round(time.Millisecond))
	return out.String(), err
}

// module writes a throwaway module with one cgo package: Go glue plus an
// Objective-C file whose body is given.
func module(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/probe\n\ngo 1.21\n",
		"probe_darwin.go": `//go:build darwin

package probe

/*
#cgo CFLAGS: -fobjc-arc
#cgo LDFLAGS: -framework Foundation -framework AVFoundation -framework VideoToolbox
int probe(void);
*/
import "C"

// Probe calls the Objective-C code.
func Probe() int { return int(C.probe()) }
`,
		"probe_darwin.m": `#import <Foundation/Foundation.h>
#import <AVFoundation/AVFoundation.h>
#include <VideoToolbox/VideoToolbox.h>

int probe(void) {
` + body + `
}
`,
		"doc.go": "// Package probe is a throwaway for the darwin check's tests.\npackage probe\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const good = `	AVCaptureSession *s = [[AVCaptureSession alloc] init];
	[s beginConfiguration];
	[s commitConfiguration];
	VTCompressionSessionRef vt = NULL;
	if (vt != NULL) {
		VTSessionSetProperty(vt, kVTCompressionPropertyKey_RealTime, kCFBooleanTrue);
	}
	return s.running ? 1 : 0;`

func TestCheckPassesOnValidCode(t *testing.T) {
	skip(t)
	if out, err := check(t, module(t, good), "arm64 amd64", "./..."); err != nil {
		t.Fatalf("valid Objective-C rejected: %v\n%s", err, out)
	}
}

func TestCheckFailsOnUndeclaredSelector(t *testing.T) {
	skip(t)
	bad := strings.Replace(good, "[s beginConfiguration];", "[s beginConfigurationNow];", 1)
	out, err := check(t, module(t, bad), "arm64", "./...")
	if err == nil {
		t.Fatalf("a message to an undeclared selector passed the check:\n%s", out)
	}
	if !strings.Contains(out, "beginConfigurationNow") {
		t.Fatalf("the failure does not name the selector:\n%s", out)
	}
}

func TestCheckFailsOnWrongArgumentType(t *testing.T) {
	skip(t)
	// An int where VTSessionSetProperty takes a CFStringRef key.
	bad := strings.Replace(good, "kVTCompressionPropertyKey_RealTime,", "42,", 1)
	out, err := check(t, module(t, bad), "arm64", "./...")
	if err == nil {
		t.Fatalf("an int passed as CFStringRef passed the check:\n%s", out)
	}
	t.Logf("check output:\n%s", out)
	if !strings.Contains(out, "VTSessionSetProperty") && !strings.Contains(out, "int-conversion") {
		t.Fatalf("the failure does not point at the call:\n%s", out)
	}
}

// TestCheckLivecapDarwinPackages compiles livecap's own darwin packages
// (the VideoToolbox encoder and the AVFoundation/ScreenCaptureKit capture)
// for both architectures. scripts/test.sh runs the check over the whole
// module as its own step; this keeps `go test ./...` honest on its own.
func TestCheckLivecapDarwinPackages(t *testing.T) {
	skip(t)
	if out, err := check(t, "", "arm64 amd64", "./internal/vt/...", "./internal/capture/..."); err != nil {
		t.Fatalf("darwin check of livecap's darwin packages failed: %v\n%s", err, out)
	}
}

// TestCheckFailsOnCFTypeMismatch reproduces the bug a Mac found and the old
// stub hid: cgo maps CVPixelBufferRef to uintptr (Apple declares
// CVPixelBufferGetTypeID) but keeps CVBufferRef a pointer (no
// CVBufferGetTypeID), so passing one where C takes the other does not
// compile on a Mac. The stub declares XGetTypeID where Apple does, so the
// check fails here too.
func TestCheckFailsOnCFTypeMismatch(t *testing.T) {
	skip(t)
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/probe\n\ngo 1.21\n",
		"doc.go": "// Package probe is a throwaway for the darwin check's tests.\npackage probe\n",
		"probe_darwin.go": `//go:build darwin

package probe

/*
#cgo LDFLAGS: -framework CoreVideo
#include <CoreVideo/CoreVideo.h>
static int take(CVBufferRef b) { return b == NULL; }
*/
import "C"

import "unsafe"

// Take passes a pixel buffer where a CVBufferRef is declared.
func Take(p unsafe.Pointer) int { return int(C.take(C.CVPixelBufferRef(p))) }
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := check(t, dir, "arm64", "./...")
	if err == nil {
		t.Fatalf("a CVPixelBufferRef passed as CVBufferRef passed the check (it fails on a Mac):\n%s", out)
	}
	if !strings.Contains(out, "CVPixelBufferRef") && !strings.Contains(out, "CVBuffer") {
		t.Fatalf("the failure does not name the CF type:\n%s", out)
	}
}

// TestCheckFailsOnUnguardedAvailability: the check compiles at macOS 12.3,
// the deployment target README promises, so an API that came later
// (SCStreamConfiguration.capturesAudio, macOS 13) used outside
// `if (@available(macOS 13.0, *))` fails, as it would crash on 12.x.
func TestCheckFailsOnUnguardedAvailability(t *testing.T) {
	skip(t)
	body := func(code string) string {
		return `#import <Foundation/Foundation.h>
#import <ScreenCaptureKit/ScreenCaptureKit.h>

int probe(void) {
	SCStreamConfiguration *c = [[SCStreamConfiguration alloc] init];
` + code + `
	return (int)c.width;
}
`
	}
	mod := func(code string) string {
		dir := t.TempDir()
		files := map[string]string{
			"go.mod": "module example.com/probe\n\ngo 1.21\n",
			"doc.go": "// Package probe is a throwaway for the darwin check's tests.\npackage probe\n",
			"probe_darwin.go": `//go:build darwin

package probe

/*
#cgo CFLAGS: -fobjc-arc
#cgo LDFLAGS: -framework Foundation -framework ScreenCaptureKit
int probe(void);
*/
import "C"

// Probe calls the Objective-C code.
func Probe() int { return int(C.probe()) }
`,
			"probe_darwin.m": body(code),
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	if out, err := check(t, mod("\tif (@available(macOS 13.0, *)) { c.capturesAudio = YES; }"), "arm64", "./..."); err != nil {
		t.Fatalf("a guarded macOS 13 API was rejected: %v\n%s", err, out)
	}
	out, err := check(t, mod("\tc.capturesAudio = YES;"), "arm64", "./...")
	if err == nil {
		t.Fatalf("a macOS 13 API outside @available passed a check at 12.3:\n%s", out)
	}
	if !strings.Contains(out, "capturesAudio") || !strings.Contains(out, "unguarded-availability") {
		t.Fatalf("the failure does not name the API and the warning:\n%s", out)
	}
}
