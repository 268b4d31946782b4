"""Differential fuzzing of the record reader at scale: 10^6 seeded cases by default.

    python benchmarks/bench_fuzz.py                       # 1,000,000 cases, one job per CPU
    python benchmarks/bench_fuzz.py --cases 20000 --jobs 2

Each case is a record document as ledger writes it (several layouts, learnt first, as a scan
of one team's records would learn them) with one to three seeded mutations: comma, space,
quote and sign mutations of numeric slots, invalid dates, tagged scalars a type cannot hold
(`!!bool x`, `!!int ''`, `!!timestamp x`...), other tricky scalars, line edits. The fast
reader (`bulkread.analyze`: shapes, fastyaml, fastschema; for half the cases
`bulkread.analyze_all` over streams of records read in batches, column by column, with odd
texts in a column) is compared with the reference (PyYAML's safe loader with ledger's
checks, then jsonschema). It prints the counts, one document at a time and in batches:
accepted and refused (both agree), and the failures: crashes (anything but a RecordError),
wrong accepts, wrong values, wrong refusals. The CI test runs the same fuzzer on 3,000
cases (tests/read/test_reference_fuzz.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support import fuzz  # noqa: E402 - the tests' fuzzer, found through the path above

CHUNK = 20_000


def _chunk(seed: int, cases: int) -> tuple[Counter[str], list[bytes]]:
    """Half the cases one document at a time, half in batches (as a worker reads them)."""
    single, failed = fuzz.run(seed, cases // 2)
    batched, failed_batched = fuzz.run(seed, cases - cases // 2, batched=True)
    counts = Counter({f"{k} (single)": v for k, v in single.items()})
    counts.update({f"{k} (batched)": v for k, v in batched.items()})
    return counts, failed + failed_batched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0, help="first seed (each chunk of 20,000 cases has its own)")
    args = parser.parse_args()
    chunks = [(args.seed + k, min(CHUNK, args.cases - k * CHUNK)) for k in range((args.cases + CHUNK - 1) // CHUNK)]
    total: Counter[str] = Counter()
    failures: list[bytes] = []
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        for counts, failed in pool.map(_chunk, *zip(*chunks)):
            total.update(counts)
            failures.extend(failed)
            done = sum(total.values())
            print(f"  {done:,} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    bad = ("crash", "wrong accept", "wrong value", "wrong refusal")
    print(f"cases: {sum(total.values()):,} in {elapsed:.0f} s ({args.jobs} jobs)")
    for mode in ("single", "batched"):
        print(f"{mode}: agree: accepted {total[f'accepted ({mode})']:,}, refused {total[f'refused ({mode})']:,}; "
              + "disagree: " + ", ".join(f"{name} {total[f'{name} ({mode})']:,}" for name in bad))  # fmt: skip
    for data in failures[:5]:
        print(repr(data.decode("utf-8", "replace")[:500]))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
