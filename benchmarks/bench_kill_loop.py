"""The kill loop: SIGKILL real `ledger run` / `ledger sweep` at random moments, then check.

Each iteration starts one real command in a scratch repository, in its own process group:
`ledger run` with or without `-p` overrides, around a DVC-less child (a plain sleep) or a
child that logs metrics through the API, or `ledger sweep -j 2` (with and without
`--worktree`); the repository has a `dvc.yaml` half of the time (then `-p` is written
into params.yaml for the run) and none the other half. It then SIGKILLs either ledger,
the child, or the whole process group, at a random moment or the moment a commit is
under way (a `git hash-object`/`read-tree`/`update-index`/`mktree`/`commit-tree`/
`update-ref` child is alive). Whatever survives finishes on its own; then the next write
command, `ledger status`, runs, and the repository is checked:

- lock:      no `*.lock` file left anywhere under `.git` (the group commit's flock file
             `ledger-commit.lock` stays by design: only a held one counts)
- params:    params.yaml byte-identical to before
- worktree:  `git worktree list` shows only the checkout
- tempdir:   no `ledger-sweep-*` directory (a worktree's or the sweep's logs) left in TMPDIR,
             and no sweep log directory left in `.git/ledger-sweep-logs`
- running:   no record (committed or in the working tree) stuck `running`
- fsck:      `git fsck --strict --no-dangling` clean
- porcelain: `git status --porcelain` shows nothing (every record committed, no sidecar
             folder, `*.tmp` file or index entry left behind)
- status:    `ledger status` itself exits 0

    python benchmarks/bench_kill_loop.py [-n 250] [--seed 7] [--keep]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

COMMIT_GIT = ("hash-object", "read-tree", "update-index", "mktree", "commit-tree", "update-ref")
CHECKS = ("lock", "params", "worktree", "tempdir", "running", "fsck", "porcelain", "status")

TRAIN = """\
import sys, time
import ledger

p = ledger.params()
total = float(sys.argv[1])
for step in range(5):
    ledger.log_metric("loss", 1.0 / (step + 1) + float(p.get("lr", 0)), step=step)
    time.sleep(total / 5)
ledger.log_metric("auc", 0.5 + float(p.get("lr", 0)) / 10)
"""
IDLE = "import sys, time\ntime.sleep(float(sys.argv[1]))\n"
DVC_YAML = "stages:\n  train:\n    cmd: python train.py 0.2\n    params: [lr, depth]\n"
PARAMS = b"# the run parameters\nlr: 0.1   # learning rate\ndepth: 3\n"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def make_repo(path: Path, with_dvc: bool) -> None:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "ledger.yaml").write_text("experiment: kill\nprimary_metric: auc\nmetrics: {auc: max}\n")
    (path / "params.yaml").write_bytes(PARAMS)
    (path / "train.py").write_text(TRAIN)
    (path / "idle.py").write_text(IDLE)
    if with_dvc:
        (path / "dvc.yaml").write_text(DVC_YAML)
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial")


@dataclass
class Plan:
    repo: str  # "dvc" or "plain"
    command: str  # run-idle, run-metrics, sweep, sweep-worktree
    overrides: bool
    target: str  # ledger, child, group
    moment: str  # random, commit
    argv: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.repo}/{self.command}{'/-p' if self.overrides else ''}"


def plan(rng: random.Random, i: int) -> Plan:
    p = Plan(
        repo=rng.choice(["dvc", "plain"]),
        command=rng.choice(["run-idle", "run-metrics", "run-metrics", "sweep", "sweep-worktree"]),
        overrides=rng.random() < 0.7,
        target=rng.choice(["ledger", "child", "group"]),
        moment="commit" if rng.random() < 0.35 else "random",
    )
    ledger = [sys.executable, "-m", "ledger"]
    duration = f"{rng.uniform(0.05, 0.6):.2f}"
    lr = f"0.{i:04d}{rng.randrange(10)}"
    if p.command.startswith("sweep"):
        p.overrides = True
        extra = ["--worktree"] if p.command == "sweep-worktree" else []
        child = ["python", "train.py", duration]
        p.argv = [*ledger, "sweep", "-j", "2", *extra, "-p", f"lr={lr}1,{lr}2", "--", *child]
    else:
        child = ["python", "idle.py" if p.command == "run-idle" else "train.py", duration]
        over = ["-p", f"lr={lr}"] if p.overrides else []
        p.argv = [*ledger, "run", "--force", "--name", f"k{i}", *over, "--", *child]
    return p


def _tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _in_commit(procs: list[psutil.Process]) -> bool:
    for proc in procs:
        try:
            cmd = proc.cmdline()
        except psutil.Error:
            continue
        if cmd and os.path.basename(cmd[0]) == "git" and any(c in cmd for c in COMMIT_GIT):
            return True
    return False


def _is_watchdog(proc: psutil.Process) -> bool:
    """`ledger run`'s own watchdog (it stops the child when ledger dies): not a target."""
    try:
        return "ledger-watchdog" in proc.cmdline()
    except psutil.Error:
        return False


def _is_ledger(proc: psutil.Process) -> bool:
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return False
    return "ledger" in cmd[1:4] or any(c.endswith("/ledger") for c in cmd[:2])


def kill(p: Plan, proc: subprocess.Popen[bytes], rng: random.Random) -> str:
    """SIGKILL the planned target; what was actually hit ("none" when it ended first)."""
    if p.moment == "commit":
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            if _in_commit(_tree(proc.pid)):
                time.sleep(rng.uniform(0, 0.004))
                break
            time.sleep(0.002)
    else:
        time.sleep(rng.uniform(0.0, 2.5 if p.command.startswith("sweep") else 1.2))
    if proc.poll() is not None:
        return "none"
    if p.target == "group":
        os.killpg(proc.pid, signal.SIGKILL)
        return "group"
    if p.target == "child":
        kids = [c for c in _tree(proc.pid) if not _is_git(c) and not _is_watchdog(c)]
        # In a sweep, a point's `ledger run` or the user's command below it.
        if kids:
            victim = rng.choice(kids)
            try:
                victim.kill()
                return "sub-ledger" if _is_ledger(victim) else "child"
            except psutil.Error:
                pass
    proc.kill()
    return "ledger"


def _is_git(proc: psutil.Process) -> bool:
    try:
        return os.path.basename(proc.cmdline()[0]) == "git"
    except (psutil.Error, IndexError):
        return False


def _wait_group(pgid: int, timeout: float = 20.0) -> bool:
    """Wait for every process of the group to exit; SIGKILL them after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


def _running_records(repo: Path, known: set[str]) -> list[str]:
    """Records stuck `running` that no earlier iteration reported already."""
    stuck = []
    for path in sorted(repo.glob("experiments/*/*.yaml")):
        try:
            rec = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(rec, dict) and rec.get("status") == "running":
            stuck.append(f"worktree:{path.relative_to(repo)}")
    listed = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "experiments", check=False).stdout.split()
    for rel in listed:
        if rel.endswith(".yaml") and "/envs/" not in rel:
            text = git(repo, "show", f"HEAD:{rel}", check=False).stdout
            if "\nstatus: running\n" in text:
                stuck.append(f"HEAD:{rel}")
    fresh = [s for s in stuck if s.split(":", 1)[1] not in known]
    known.update(s.split(":", 1)[1] for s in stuck)
    return fresh


def _held(path: Path) -> bool:
    with open(path, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def check(repo: Path, temp: Path, status: subprocess.CompletedProcess[str], known: set[str]) -> dict[str, str]:
    """Failed checks -> what was found."""
    bad: dict[str, str] = {}
    # ledger-commit.lock is the group commit's flock file: it stays, and only a held lock
    # would be a leftover (the kernel drops a dead holder's lock).
    locks = [str(p.relative_to(repo)) for p in (repo / ".git").rglob("*.lock") if p.name != "ledger-commit.lock"]
    commit_lock = repo / ".git" / "ledger-commit.lock"
    if commit_lock.exists() and _held(commit_lock):
        locks.append(".git/ledger-commit.lock (held)")
    if locks:
        bad["lock"] = ", ".join(locks)
    if (repo / "params.yaml").read_bytes() != PARAMS:
        bad["params"] = (repo / "params.yaml").read_text()[:120].replace("\n", "\\n")
    trees = [line for line in git(repo, "worktree", "list", "--porcelain").stdout.splitlines()
             if line.startswith("worktree ")]  # fmt: skip
    if len(trees) > 1:
        bad["worktree"] = ", ".join(trees[1:])
    leftovers = sorted(p.name for p in temp.glob("ledger-sweep-*"))
    leftovers += sorted(f".git/{p.parent.name}/{p.name}" for p in (repo / ".git").glob("ledger-sweep-logs/*"))
    if leftovers:
        bad["tempdir"] = ", ".join(leftovers)
    stuck = _running_records(repo, known)
    if stuck:
        bad["running"] = ", ".join(stuck)
    fsck = git(repo, "fsck", "--strict", "--no-dangling", check=False)
    if fsck.returncode != 0 or fsck.stdout.strip():
        bad["fsck"] = (fsck.stdout + fsck.stderr).strip()[:300]
    porcelain = git(repo, "status", "--porcelain", "--untracked-files=all").stdout.strip()
    if porcelain:
        bad["porcelain"] = porcelain.replace("\n", " | ")[:300]
    if status.returncode != 0:
        bad["status"] = f"exit {status.returncode}: {status.stderr.strip()[-300:]}"
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=250, help="iterations (kills)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    for var, value in (("GIT_AUTHOR_NAME", "Bench"), ("GIT_AUTHOR_EMAIL", "bench@example.com"),
                       ("GIT_COMMITTER_NAME", "Bench"), ("GIT_COMMITTER_EMAIL", "bench@example.com")):  # fmt: skip
        os.environ.setdefault(var, value)
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="bench-kill-"))
    temp = scratch / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    repos = {"dvc": scratch / "dvc", "plain": scratch / "plain"}
    for name, path in repos.items():
        make_repo(path, with_dvc=name == "dvc")
    fails: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    hit: Counter[str] = Counter()
    by_label: Counter[str] = Counter()
    bad_label: Counter[str] = Counter()
    clean = hung = 0
    known_stuck: set[str] = set()
    t0 = time.perf_counter()
    for i in range(args.n):
        p = plan(rng, i)
        repo = repos[p.repo]
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        proc = subprocess.Popen(p.argv, cwd=repo, env=env, start_new_session=True, **quiet)
        what = kill(p, proc, rng)
        proc.wait()
        hung += not _wait_group(proc.pid)
        status = subprocess.run([sys.executable, "-m", "ledger", "status"], cwd=repo, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        bad = check(repo, temp, status, known_stuck)
        key = f"{p.label} kill {p.target}->{what} at {p.moment}"
        hit[f"{what} at {p.moment}"] += 1
        by_label[p.label] += 1
        if not bad:
            clean += 1
        else:
            bad_label[p.label] += 1
        for name, detail in bad.items():
            fails[name] += 1
            if len(examples[name]) < 4:
                examples[name].append(f"#{i} {key}: {detail}")
        if bad:  # leave the next iteration a clean start, so each failure is counted once
            _reset(repo, temp)
        if (i + 1) % 25 == 0:
            print(f"  {i + 1}/{args.n} iterations, {clean} clean, {time.perf_counter() - t0:.0f} s", flush=True)
    elapsed = time.perf_counter() - t0
    print(f"\nkill loop: {args.n} SIGKILLs in {elapsed:.0f} s (seed {args.seed}); "
          f"{hung} iterations with a process still alive after 20 s")  # fmt: skip
    print("what was killed: " + ", ".join(f"{k} {v}" for k, v in sorted(hit.items())))
    print(f"{'check':<10} {'failed':>7} {'passed':>7}")
    for name in CHECKS:
        print(f"{name:<10} {fails[name]:>7} {args.n - fails[name]:>7}")
    print(f"{'command':<28} {'iterations':>10} {'not clean':>10}")
    for label in sorted(by_label):
        print(f"{label:<28} {by_label[label]:>10} {bad_label[label]:>10}")
    for name in CHECKS:
        for line in examples[name]:
            print(f"  {name}: {line}")
    print(f"ratio: {clean}/{args.n} iterations left the repository clean ({100 * clean / args.n:.1f}%)")
    if args.keep:
        print(f"scratch kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if clean == args.n else 1


def _reset(repo: Path, temp: Path) -> None:
    """Undo whatever a failed iteration left, so failures are not counted twice."""
    for lock in (repo / ".git").rglob("*.lock"):
        lock.unlink(missing_ok=True)
    (repo / "params.yaml").write_bytes(PARAMS)
    git(repo, "worktree", "prune", check=False)
    for line in git(repo, "worktree", "list", "--porcelain").stdout.splitlines()[1:]:
        if line.startswith("worktree "):
            git(repo, "worktree", "remove", "--force", line[9:], check=False)
    # A worktree whose HEAD points at nothing cannot be removed by git: drop its admin dir.
    shutil.rmtree(repo / ".git" / "worktrees", ignore_errors=True)
    for leftover in [*temp.glob("ledger-sweep-*"), *(repo / ".git").glob("ledger-sweep-logs/*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    git(repo, "reset", "-q", "--hard", check=False)
    git(repo, "clean", "-qfdx", check=False)


if __name__ == "__main__":
    raise SystemExit(main())
