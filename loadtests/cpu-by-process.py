#!/usr/bin/env python3
"""CPU used by each part of a load test on this machine, in cores, over a window.

Run it while a load test is in its measured phase:
    python3 loadtests/cpu-by-process.py --delay 20 --window 8

Divide by the scenario's req/s to get CPU time per request (e.g. 0.79 cores / 7,769 req/s = 102 us).
Reads /proc only (Linux); no package needed.
"""
import argparse
import os
import time


def snapshot():
    ticks = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks[pid] = (command, int(fields[11]) + int(fields[12]))  # utime + stime
        except (OSError, IndexError, ValueError):
            pass  # the process ended meanwhile
    return ticks


def part(command):
    if "ProLifeProsper.Api.dll" in command or "ProLifeProsper.Api " in command:
        return "api"
    if "LoadTests" in command:
        return "load generator"
    if command.startswith("postgres") or "/postgresql/" in command.split(" ")[0]:
        return "postgresql"
    if "dynalite" in command:
        return "dynalite"
    return "other"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0, help="seconds to wait before measuring")
    parser.add_argument("--window", type=float, default=5, help="seconds measured")
    args = parser.parse_args()
    time.sleep(args.delay)
    before = snapshot()
    time.sleep(args.window)
    after = snapshot()
    hertz = os.sysconf("SC_CLK_TCK")
    cores = {}
    for pid, (command, ticks) in after.items():
        used = ticks - before.get(pid, (command, 0))[1]
        if used > 0:
            cores[part(command)] = cores.get(part(command), 0) + used / hertz / args.window
    for name, value in sorted(cores.items(), key=lambda item: -item[1]):
        print(f"{name:16} {value:5.2f} cores")


if __name__ == "__main__":
    main()
