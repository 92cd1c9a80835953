package main

// Destinations: --rtmp/--srt/--dest-env/--dest-file, each URL optionally
// named (yt=rtmp://...), and OBS's --server with --key-file or --key-env
// for one destination whose key never appears on the command line.

import (
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/livecap/livecap/internal/publish"
)

func addDestFlags(fl *pflag.FlagSet, f *streamFlags) {
	fl.StringVar(&f.server, "server", "", "with --key-file or --key-env: stream to this server URL ([NAME=]rtmp://host/app or srt://host:port) with the key read from there")
	fl.StringVar(&f.keyFile, "key-file", "", "read the --server stream key from this file (its first line)")
	fl.StringVar(&f.keyEnv, "key-env", "", "read the --server stream key from this environment variable")
}

// destinations parses every destination flag, in order: --rtmp, --srt,
// --dest-env, --dest-file, --server.
func (f *streamFlags) destinations() ([]*publish.Destination, error) {
	type src struct{ flag, raw string }
	var urls []src
	for _, u := range f.rtmp {
		_, s := publish.SplitName(u)
		if s := strings.ToLower(s); !strings.HasPrefix(s, "rtmp://") && !strings.HasPrefix(s, "rtmps://") {
			return nil, usageErr("invalid --rtmp %s: must be an rtmp:// or rtmps:// URL, optionally named (yt=rtmp://...)", urlHead(u))
		}
		urls = append(urls, src{"rtmp", u})
	}
	for _, u := range f.srt {
		_, s := publish.SplitName(u)
		if !strings.HasPrefix(strings.ToLower(s), "srt://") {
			return nil, usageErr("invalid --srt %s: must be an srt:// URL, optionally named (cam=srt://...)", urlHead(u))
		}
		urls = append(urls, src{"srt", u})
	}
	for _, name := range f.destEnv {
		v, ok := os.LookupEnv(name)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, usageErr("invalid --dest-env %q: the environment variable is not set", name)
		}
		for _, u := range strings.Fields(v) {
			urls = append(urls, src{"dest-env", u})
		}
	}
	for _, path := range f.destFile {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageErr("invalid --dest-file %q: %v", path, unwrapPathErr(err))
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				urls = append(urls, src{"dest-file", line})
			}
		}
	}
	if u, err := f.serverURL(); err != nil {
		return nil, err
	} else if u != "" {
		urls = append(urls, src{"server", u})
	}
	var ds []*publish.Destination
	names := map[string]bool{}
	for _, u := range urls {
		d, err := publish.ParseNamed(u.raw)
		if err != nil {
			return nil, usageErr("invalid --%s: %v", u.flag, err)
		}
		if d.Name != "" {
			if names[d.Name] {
				return nil, usageErr("invalid --%s: destination name %q is used twice: each name must be unique", u.flag, d.Name)
			}
			names[d.Name] = true
		}
		ds = append(ds, d)
	}
	// Unnamed destinations that would look the same (two keys on one
	// host) are told apart by their index.
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.Redacted()]++
	}
	for i, d := range ds {
		if d.Name == "" && seen[d.Redacted()] > 1 {
			d.SetName(strconv.Itoa(i + 1))
		}
	}
	return ds, nil
}

// serverURL joins --server and its key, "" without --server.
func (f *streamFlags) serverURL() (string, error) {
	switch {
	case f.server == "" && (f.keyFile != "" || f.keyEnv != ""):
		return "", usageErr("invalid --key-file/--key-env: they need --server URL")
	case f.server == "":
		return "", nil
	case f.keyFile != "" && f.keyEnv != "":
		return "", usageErr("invalid --key-file with --key-env: give one of them")
	case f.keyFile == "" && f.keyEnv == "":
		return "", usageErr("invalid --server: give its stream key with --key-file PATH or --key-env NAME (never on the command line)")
	}
	var key string
	if f.keyFile != "" {
		b, err := os.ReadFile(f.keyFile)
		if err != nil {
			return "", usageErr("invalid --key-file %q: %v", f.keyFile, unwrapPathErr(err))
		}
		key, _, _ = strings.Cut(string(b), "\n")
		if strings.TrimSpace(key) == "" {
			return "", usageErr("invalid --key-file %q: its first line is empty: must hold the stream key", f.keyFile)
		}
	} else {
		v, ok := os.LookupEnv(f.keyEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return "", usageErr("invalid --key-env %q: the environment variable is not set", f.keyEnv)
		}
		key = v
	}
	u, err := publish.WithKey(f.server, key)
	if err != nil {
		where := "--key-env " + strconv.Quote(f.keyEnv)
		if f.keyFile != "" {
			where = "--key-file " + strconv.Quote(f.keyFile)
		}
		if strings.HasPrefix(err.Error(), "invalid --server") {
			return "", usageErr("%v", err)
		}
		return "", usageErr("invalid %s: %v", where, err)
	}
	return u, nil
}
