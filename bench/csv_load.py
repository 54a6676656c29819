"""A large CSV upload (issue 10, item 6): seconds and peak memory of ``otcore.load_samples``.

    python -m bench.csv_load                   # a 190 MB CSV of 8 columns (≈ 20 s on 2 cores)
    python -m bench.csv_load --mb 50 --cols 32 --write

The file is written into a temporary folder (normal draws, six decimals, a header row), then read
by a fresh Python process that imports otcore and calls ``load_samples(path)``; that process
reports its wall time and the growth of its peak resident memory (``ru_maxrss``) over what it
held after the imports. The target: at most 3 × the file's size.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "csv_load.md"
TARGET = 3.0
BYTES_PER_VALUE = 9.5   # characters per value with six decimals, sign and separator (measured)

CHILD = """
import json, resource, sys, time
import otcore
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
x = otcore.load_samples(sys.argv[1])
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "growth_kib": peak - before, "shape": list(x.shape)}))
"""


def write_csv(path: Path, mb: float, cols: int, seed: int = 0) -> int:
    """A CSV of about ``mb`` megabytes: a header and rows of ``cols`` normal draws. Returns its rows."""
    rows = int(mb * 1e6 / (cols * BYTES_PER_VALUE))
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        handle.write(",".join(f"x{i}" for i in range(cols)) + "\n")
        for start in range(0, rows, 100_000):
            np.savetxt(handle, rng.normal(size=(min(100_000, rows - start), cols)), delimiter=",", fmt="%.6f")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=190.0, help="file size to write, megabytes")
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--write", action="store_true", help=f"also write {RESULT.relative_to(ROOT)}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        write_csv(path, args.mb, args.cols)
        size = path.stat().st_size
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True, cwd=ROOT)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = got["growth_kib"] * 1024 / size
    line = (f"| {size / 1e6:.0f} MB | {got['shape'][0]:,} × {got['shape'][1]} | {got['seconds']:.1f} | "
            f"{got['growth_kib'] / 1024:.0f} MiB | {ratio:.2f} | ≤ {TARGET:g} | {'yes' if ratio <= TARGET else 'NO'} |")
    table = "| file | table | seconds | peak memory growth | × file | target | ok |\n|---|---|---:|---:|---:|---:|:-:|\n" + line
    print(table)
    if args.write:
        RESULT.write_text(f"# A large CSV upload\n\n`python -m bench.csv_load --mb {args.mb:g} --cols {args.cols}` "
                          f"({time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {platform.system()})\n\n"
                          "`otcore.load_samples` in a fresh process; memory is the growth of its peak resident "
                          "set over what it held after importing otcore.\n\n" + table + "\n", encoding="utf-8")
        print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
