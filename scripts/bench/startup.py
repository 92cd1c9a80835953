#!/usr/bin/env python3
"""Run a livecap command RUNS times and measure, per run, from the exec:

  started_ms   the `started` event line reaching us (JSON logs on stderr)
  first_ms     the first `segment_opened` line: the first packet reached the recorder
  exit_ms      the process exiting
  peak_rss_mb  the largest VmRSS seen (sampled every 50 ms), with its
  anon_mb      RssAnon (Go heap, stacks, C mallocs) and
  file_mb      RssFile (the binary's and shared libraries' file-backed pages) at that moment
  top          with STARTUP_TOP=N (one run): the N mappings holding most of that
               peak (/proc/PID/smaps, RSS summed per file, anonymous mappings
               as [anon]), "MB:anonMB:name" comma-separated

and print the median of each over the runs, one `name value` per line
(missing values print as -). Used by scripts/bench-startup.sh.

  startup.py RUNS CMD...
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024
    except OSError:
        pass
    return out


def mappings(pid):
    """RSS and its anonymous part in kB per mapped file ([anon]: no file)."""
    per, name = {}, None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if "-" in parts[0] and not parts[0].endswith(":"):
                    name = parts[5] if len(parts) > 5 and parts[5].startswith("/") else "[anon]"
                    per.setdefault(name, [0, 0])
                elif parts[0] == "Rss:":
                    per[name][0] += int(parts[1])
                elif parts[0] == "Anonymous:":
                    per[name][1] += int(parts[1])
    except OSError:
        return {}
    return per


TOP = int(os.environ.get("STARTUP_TOP", "0"))


def one(cmd):
    r = {}
    t0 = time.monotonic_ns()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            s = status(p.pid)
            if s.get("VmRSS", 0) > peak.get("VmRSS", 0):
                peak.update(s)
                if TOP:
                    peak["maps"] = mappings(p.pid)
            done.wait(0.05)

    th = threading.Thread(target=sample)
    th.start()
    for raw in p.stderr:
        now = (time.monotonic_ns() - t0) / 1e6
        try:
            ev = json.loads(raw).get("event")
        except ValueError:
            continue
        if ev == "started" and "started_ms" not in r:
            r["started_ms"] = now
        elif ev == "segment_opened" and "first_ms" not in r:
            r["first_ms"] = now
    code = p.wait()
    r["exit_ms"] = (time.monotonic_ns() - t0) / 1e6
    done.set()
    th.join()
    if code != 0:
        sys.exit(f"startup.py: {' '.join(cmd)} exited {code}")
    if peak:
        r["peak_rss_mb"] = peak.get("VmRSS")
        r["anon_mb"] = peak.get("RssAnon")
        r["file_mb"] = peak.get("RssFile")
    if TOP and peak.get("maps"):
        top = sorted(peak["maps"].items(), key=lambda kv: -kv[1][0])[:TOP]
        r["top"] = ",".join("%.1f:%.1f:%s" % (v[0] / 1024, v[1] / 1024, os.path.basename(k)) for k, v in top)
    return r


def main():
    runs, cmd = int(sys.argv[1]), sys.argv[2:]
    rows = [one(cmd) for _ in range(runs)]
    for k in ("started_ms", "first_ms", "exit_ms", "peak_rss_mb", "anon_mb", "file_mb"):
        vals = [r[k] for r in rows if r.get(k) is not None]
        print(k, "%.1f" % statistics.median(vals) if vals else "-")
    if rows and rows[-1].get("top"):
        print("top", rows[-1]["top"])


main()
