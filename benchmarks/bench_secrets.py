"""Secrets as a corpus: detection rate and false-positive rate, through real runs.

Records the whole corpus of tests/support/secret_corpus.py (>= 50 secret shapes, >= 30
secret key names, >= 25 harmless look-alike params) in every placement through real
`ledger run`, `ledger sweep`, API runs and `ledger import mlflow` in a scratch repository,
then searches every git object and every file under experiments/ for the random part of
each secret. Prints, per placement, how many secrets were kept out, and the overall rates.

    python benchmarks/bench_secrets.py [--seed 14]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support.secret_corpus import ALL_SHAPES, HARMLESS, KEY_NAMES  # noqa: E402
from support.secret_harness import run_corpus  # noqa: E402


def _identity() -> None:
    for var, value in (("GIT_AUTHOR_NAME", "Bench"), ("GIT_AUTHOR_EMAIL", "bench@example.com"),
                       ("GIT_COMMITTER_NAME", "Bench"), ("GIT_COMMITTER_EMAIL", "bench@example.com")):  # fmt: skip
        os.environ.setdefault(var, value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    _identity()
    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as scratch:
        t0 = time.perf_counter()
        out = run_corpus(Path(scratch), seed=args.seed)
        elapsed = time.perf_counter() - t0
    shape_total = Counter(p for _, p in out.shape_cells)
    shape_leaks = Counter(p for _, p in out.leaked_shapes)
    key_total = Counter(p for _, p in out.key_cells)
    key_leaks = Counter(p for _, p in out.leaked_keys)
    print(f"corpus: {len(ALL_SHAPES)} shapes, {len(KEY_NAMES)} key names, {len(HARMLESS)} harmless params; "
          f"{out.runs} recorded runs/imports in {elapsed:.1f} s")  # fmt: skip
    print(f"{'placement':<16} {'shapes kept out':>16} {'key names kept out':>19}")
    for placement in sorted(set(shape_total) | set(key_total)):
        s = (
            f"{shape_total[placement] - shape_leaks[placement]}/{shape_total[placement]}"
            if shape_total[placement]
            else "-"
        )
        k = f"{key_total[placement] - key_leaks[placement]}/{key_total[placement]}" if key_total[placement] else "-"
        print(f"{placement:<16} {s:>16} {k:>19}")
    cells = len(out.shape_cells) + len(out.key_cells)
    leaks = len(out.leaked_shapes) + len(out.leaked_keys)
    print(f"not applicable (a name or file name cannot hold it): {len(out.not_applicable)} cells")
    print(f"remote URL token kept out: {'no' if out.remote_leaked else 'yes'}")
    print(f"detection rate: {cells - leaks}/{cells} = {100 * (cells - leaks) / cells:.1f}% "
          f"(shapes {len(out.shape_cells) - len(out.leaked_shapes)}/{len(out.shape_cells)}, "
          f"key names {len(out.key_cells) - len(out.leaked_keys)}/{len(out.key_cells)})")  # fmt: skip
    changed = len(out.harmless_changed)
    print(f"false-positive rate: {changed}/{len(HARMLESS)} = {100 * changed / len(HARMLESS):.1f}% "
          f"harmless params changed {sorted(out.harmless_changed) if changed else ''}")  # fmt: skip
    if out.leaked_shapes or out.leaked_keys:
        print("leaks:", *out.leaked_shapes, *out.leaked_keys, sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
