"""Run every benchmark script in this folder, one after another, each printing its own table.

`make bench` calls this. Benchmarks are never part of `make test`: they measure time, and tests
must not. Pass names to run only some: `python tests/benchmarks/run_all.py dcat pdf`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main(selected: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in selected]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    failures = 0
    for script in scripts:
        args = [sys.executable, str(script)]
        if script.stem in (
            "bench_catalog_search",
            "bench_catalog_export",
            "bench_purchases",
            "bench_check",
            "bench_roi",
        ) and os.environ.get("BENCH_POSTGRES_URL"):
            args += ["--postgres", os.environ["BENCH_POSTGRES_URL"]]
        print(f"\n=== {script.name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run(args, cwd=ROOT, env=env, check=False)
        print(
            f"--- {script.name}: exit {result.returncode} after {time.monotonic() - started:.0f} s",
            flush=True,
        )
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
