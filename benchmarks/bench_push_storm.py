"""A push storm: many job-array tasks pushing their records to one bare remote at once.

    python benchmarks/bench_push_storm.py [--clones 64] [--runs 1] [--backoff ledger|doubling]

Makes CLONES clones of one bare remote (as the tasks of `ledger sweep --submit` do); each
records RUNS runs, then all wait at a barrier and run `ledger push` at the same moment.
Counts the records on the remote, checks that every update of the remote branch was a
fast-forward (its reflog: nothing force-pushed, nothing lost), runs `git fsck`, and prints
the time to drain the storm, how many attempts the pushes needed, and, side by side, a
plain `git push` of one commit. `--backoff doubling` replaces ledger's back-off (uniform up to
0.1 s x attempt, at most 1 s) with one that doubles up to 5 s, to compare the two.
Budget (SPEC §10): 64 clones pushing to one remote: all land.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = """
import json, sys, time
from pathlib import Path
import ledger
from ledger.core.workspace import Workspace
from ledger.gitstore.push import push

name, runs, barrier = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
if sys.argv[4] == "doubling":  # an alternative back-off, for comparison only
    import random
    import ledger.gitstore.push as pushing
    pushing.backoff = lambda attempt: random.uniform(0.05, min(0.1 * 2 ** min(attempt, 6), 5.0))
for i in range(runs):
    with ledger.start_run(name=f"{name}-{i}") as run:
        run.log_metric("auc", 0.5 + i / 1000)
(barrier / f"{name}.ready").touch()
while not (barrier / "go").exists():
    time.sleep(0.01)
start = time.perf_counter()
result = push(Workspace.find(), deadline_s=600)
print(json.dumps({"attempts": result.attempts, "seconds": time.perf_counter() - start, "pushed": result.pushed}))
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def raw_git_push(root: Path) -> float:
    """One commit pushed with plain git, for scale."""
    remote = root / "raw.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    work = root / "raw"
    git(root, "clone", "-q", str(remote), str(work))
    (work / "f.txt").write_text("x\n")
    git(work, "add", "f.txt")
    git(work, "commit", "-qm", "raw")
    start = time.perf_counter()
    git(work, "push", "-q", "origin", "HEAD:main")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=64, help="concurrent pushers")
    parser.add_argument("--runs", type=int, default=1, help="runs recorded by each before pushing")
    parser.add_argument("--backoff", choices=("ledger", "doubling"), default="ledger", help="the retry back-off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-push-") as tmp:
        root = Path(tmp)
        remote = root / "remote.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(remote))
        git(remote, "config", "core.logAllRefUpdates", "true")
        seed = root / "seed"
        git(root, "clone", "-q", str(remote), str(seed))
        (seed / "ledger.yaml").write_text("experiment: bench\nsystem_interval: 0\n")
        (seed / "worker.py").write_text(WORKER)
        git(seed, "add", ".")
        git(seed, "-c", "user.name=bench", "-c", "user.email=b@example.com", "commit", "-qm", "init")
        git(seed, "push", "-q", "origin", "HEAD:main")
        barrier = root / "barrier"
        barrier.mkdir()
        clones = []
        for n in range(args.clones):
            path = root / f"clone{n}"
            git(root, "clone", "-q", str(remote), str(path))
            git(path, "config", "user.name", f"task{n}")
            git(path, "config", "user.email", f"task{n}@example.com")
            clones.append(path)
        procs = [
            subprocess.Popen(
                [sys.executable, "worker.py", f"t{n}", str(args.runs), str(barrier), args.backoff],
                cwd=path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for n, path in enumerate(clones)
        ]  # fmt: skip
        while len(list(barrier.glob("*.ready"))) < args.clones and all(p.poll() is None for p in procs):
            time.sleep(0.05)
        start = time.perf_counter()
        (barrier / "go").touch()
        stats, problems = [], []
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode:
                problems.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
            else:
                stats.append(json.loads(out.strip().splitlines()[-1]))
        drained = time.perf_counter() - start
        expected = args.clones * args.runs
        landed = [p for p in git(remote, "ls-tree", "-r", "--name-only", "main", "experiments").split()
                  if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip
        updates = git(remote, "reflog", "show", "--format=%H", "refs/heads/main").split()[::-1]
        forced = sum(
            1 for old, new in zip(updates, updates[1:])
            if subprocess.run(["git", "merge-base", "--is-ancestor", old, new], cwd=remote).returncode != 0
        )  # fmt: skip
        fsck = subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=remote, capture_output=True)
        attempts = [s["attempts"] for s in stats]
        seconds = [s["seconds"] for s in stats]
        raw = raw_git_push(root)
        print(
            f"[{args.backoff} back-off] {args.clones} clones x {args.runs} run(s) pushed at once to one bare remote: "
            f"{len(landed)} of {expected} records landed; non-fast-forward updates: {forced}; "
            f"git fsck: {'clean' if fsck.returncode == 0 else 'PROBLEMS'}; failed pushers: {len(problems)}"
        )
        if attempts:
            print(f"storm drained in {drained:.1f} s; attempts per push: median {statistics.median(attempts):.0f}, "
                  f"max {max(attempts)}; seconds per push: median {statistics.median(seconds):.1f}, "
                  f"max {max(seconds):.1f}; one plain `git push`: {raw:.3f} s "
                  f"(a push in the storm: {statistics.median(seconds) / raw:.0f}x)")  # fmt: skip
        for line in problems[:5]:
            print(f"  pusher failed: {line}")
        return 0 if len(landed) == expected and forced == 0 and fsck.returncode == 0 and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
