#!/usr/bin/env python3
"""Follow the measured command of bench_measure and print "anon_mb file_mb":
its RssAnon and RssFile (/proc/PID/status) at the sample where its VmRSS was
largest, sampled every 50 ms. GNU time gives the peak alone; this says what
it is made of: anonymous memory (heaps, C allocations, stacks, relocated
library data) or file-backed pages (the binary and its shared libraries).

  rsssplit.py PID     PID: the /usr/bin/time process; the measured command
                      is its deepest descendant (time -> timeout -> command)

Prints "0 0" when the command ended before the first sample.
"""
import sys
import time


def children(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            out = [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def leaf(pid):
    while True:
        c = children(pid)
        if not c:
            return pid
        pid = c[0]


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def main():
    top = int(sys.argv[1])
    peak = {}
    while alive(top):
        s = status(leaf(top))
        if s.get("VmRSS", 0) > peak.get("VmRSS", 0):
            peak = s
        time.sleep(0.05)
    print("%.1f %.1f" % (peak.get("RssAnon", 0) / 1024, peak.get("RssFile", 0) / 1024))


main()
