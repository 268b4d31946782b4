"""A simulated pull request, end to end with real git and the real CLI.

A bare remote; `main` with a baseline and runs made by `ledger run`; a feature branch adding
runs (better, worse, failed, dirty, and one imported by hand that cannot be reproduced);
`main` moving on after the branch was cut; and a fork-like branch of hostile records written
as plain files and committed with git. CI is a fresh clone of the remote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.core import record, yamlio

TRAIN = """\
import sys
import ledger

p = ledger.params()
if p.get("fail"):
    sys.exit(3)
ledger.log_metric("auc", float(p["auc"]))
ledger.log_metric("loss", round(1 - float(p["auc"]), 6))
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LEDGER_"))}
    env.update({
        "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
    })  # fmt: skip
    return env


class Sim:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        home = tmp / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", encoding="utf-8"
        )
        self.env = _env(home)
        self.marker = tmp / "PWNED"
        self.ids: dict[str, str] = {}

    def git(self, cwd: Path, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def ledger(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ledger", *args], cwd=cwd, env=self.env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def run(self, cwd: Path, name: str, *params: str, baseline: bool = False) -> str:
        args = ["run", "--name", name, *(f"-p{p}" for p in params)]
        args += ["--baseline"] if baseline else []
        proc = self.ledger(cwd, *args, "--", sys.executable, "train.py")
        assert "run 20" in proc.stderr, proc.stderr
        run_id = proc.stderr.split(" run ", 1)[1].split(",")[0].strip()
        self.ids[name] = run_id
        return run_id


def hand_record(run_id: str, name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": run_id, "name": name, "experiment": "tests", "status": "finished",
        "started_at": "2026-11-27T10:00:00.000Z", "ended_at": "2026-11-27T10:01:00.000Z",
        "duration_s": 60.0, "params": {}, "metrics": {},
    }  # fmt: skip
    return record.canonical({**base, **fields})


def write(root: Path, relpath: str, content: str | bytes) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)


BOMB = "20261127-100001-bomb-a1a1a1"
PYTAG = "20261127-100002-pytag-b2b2b2"
ESCAPE = "20261127-100003-escape-c3c3c3"
HUGE = "20261127-100004-huge-d4d4d4"
INVALID = "20261127-100005-invalid-e5e5e5"
SECRET = "20261127-100006-secret-f6f6f6"
INJECT = "20261127-100007-inject-a7a7a7"
IMPORTED = "20261127-090000-imported-0a0b0c"
INJECTED_NAME = "<img src=x onerror=alert(1)> | **bold** [click](https://evil.example) @admin <!-- ledger-diff -->"


def _hostile(sim: Sim, root: Path) -> None:
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(root, record.record_path(BOMB), "\n".join(laughs) + "\n")
    write(root, record.record_path(PYTAG), (
        f"schema_version: 1\nid: {PYTAG}\n"
        f"name: !!python/object/apply:os.system [\"touch {sim.marker}\"]\n"
        "experiment: x\nstatus: finished\nstarted_at: '2026-11-27T10:00:00Z'\n"
    ))  # fmt: skip
    escape = hand_record(ESCAPE, "escape", artifacts=[
        {"name": "model", "path": "../../outside/model.pkl", "hash": "0" * 32, "kind": "model",
         "store": "git"}])  # fmt: skip
    write(root, record.record_path(ESCAPE), yamlio.dumps(escape))
    write(root, record.record_path(HUGE), yamlio.dumps(hand_record(HUGE, "huge", notes="x" * 1_100_000)))
    invalid = hand_record(INVALID, "invalid", metrics={"auc": "high"})
    invalid["status"] = "exploded"
    write(root, record.record_path(INVALID), yamlio.dumps(invalid))
    secret = hand_record(SECRET, "secret", params={"api_token": "ghp_" + "A1b2C3d4" * 5})
    write(root, record.record_path(SECRET), yamlio.dumps(secret))
    inject = hand_record(INJECT, INJECTED_NAME, metrics={"auc": 0.5},
                         description="line one\n\n# heading\n</details><script>alert(1)</script>")  # fmt: skip
    write(root, record.record_path(INJECT), yamlio.dumps(inject))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    tmp = tmp_path_factory.mktemp("pr")
    s = Sim(tmp)
    remote = tmp / "remote.git"
    s.git(tmp, "init", "-q", "--bare", str(remote))
    dev = tmp / "dev"
    dev.mkdir()
    s.git(dev, "init", "-q", "-b", "main")
    write(dev, "ledger.yaml", "experiment: tests\nprimary_metric: auc\nmetrics: {auc: max}\n")
    write(dev, "params.yaml", "auc: 0.5\nfail: false\n")
    write(dev, "train.py", TRAIN)
    s.git(dev, "add", ".")
    s.git(dev, "commit", "-q", "-m", "initial")
    s.git(dev, "remote", "add", "origin", str(remote))
    s.run(dev, "baseline", "auc=0.80", baseline=True)
    s.run(dev, "rf", "auc=0.85")
    s.git(dev, "push", "-q", "origin", "main")

    s.git(dev, "checkout", "-q", "-b", "feature")
    s.run(dev, "worse", "auc=0.70")
    s.ids["worse_commit"] = s.git(dev, "rev-parse", "HEAD")
    proc = s.ledger(dev, "run", "--name", "broken", "-pfail=true", "--", sys.executable, "train.py")
    assert proc.returncode == 3, proc.stderr
    s.ids["broken"] = proc.stderr.split(" run ", 1)[1].split(",")[0].strip()
    s.run(dev, "better", "auc=0.90")
    with open(dev / "train.py", "a", encoding="utf-8") as fh:
        fh.write("# an uncommitted tweak\n")
    s.run(dev, "dirty", "auc=0.86")
    s.git(dev, "checkout", "--", "train.py")
    imported = hand_record(
        IMPORTED, "imported", metrics={"auc": 0.83},
        code={"commit": "f" * 40, "dirty": True},
        data=[{"path": "data/train.csv", "hash": None}],
    )  # fmt: skip
    write(dev, record.record_path(IMPORTED), yamlio.dumps(imported))
    s.git(dev, "add", "experiments")
    s.git(dev, "commit", "-q", "-m", "import an old run by hand")
    s.git(dev, "push", "-q", "origin", "feature")

    s.git(dev, "checkout", "-q", "main")
    s.run(dev, "main-late", "auc=0.88")  # lands on main after the branch was cut
    s.git(dev, "push", "-q", "origin", "main")

    s.git(dev, "checkout", "-q", "-b", "fork")
    _hostile(s, dev)
    s.git(dev, "add", "experiments")
    s.git(dev, "commit", "-q", "-m", "results from a fork")
    s.git(dev, "push", "-q", "origin", "fork")

    ci = tmp / "ci"
    s.git(tmp, "clone", "-q", str(remote), str(ci))
    s.git(ci, "checkout", "-q", "feature")
    s.ci = ci  # type: ignore[attr-defined]
    yield s


def _diff(sim: Sim, *args: str) -> dict[str, Any]:
    proc = sim.ledger(sim.ci, "diff", *args, "--format", "json")  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_diff_reviews_the_branch_runs_against_base(sim: Sim) -> None:
    rv = _diff(sim, "origin/main")
    runs = {r["name"]: r for r in rv["runs"]}
    # Merge-base semantics: main-late landed on main after the fork, so it is not the branch's.
    assert set(runs) == {"worse", "broken", "better", "dirty", "imported"}
    assert all(r["change"] == "added" for r in runs.values())
    assert rv["best_on_base"]["name"] == "main-late" and rv["best_on_base"]["value"] == 0.88
    assert rv["baseline"]["name"] == "baseline"
    assert rv["best_new"] == sim.ids["better"]
    assert rv["regression"] is False and rv["summary"].startswith("improvement")
    assert runs["better"]["verdict"] == "better"
    assert runs["better"]["vs_best"] == pytest.approx(0.02)
    assert runs["better"]["vs_baseline"] == pytest.approx(0.10)
    assert runs["worse"]["verdict"] == "worse"
    assert runs["dirty"]["verdict"] == "worse"  # 0.86 < 0.88
    assert runs["broken"]["verdict"] == "failed" and runs["broken"]["status"] == "failed"
    assert rv["secondary_metrics"] == ["loss"]
    # A real dirty run carries its patch: reproducible. The hand-made one is not.
    assert runs["dirty"]["warnings"] == [] and runs["better"]["warnings"] == []
    assert runs["imported"]["warnings"] == [
        "dirty code without a patch",
        "code commit ffffffff is not in HEAD's history",
        "data data/train.csv has no DVC hash",
    ]


def test_fail_on_regression_verdicts_and_exit_codes(sim: Sim) -> None:
    ci = sim.ci  # type: ignore[attr-defined]
    ok = sim.ledger(ci, "diff", "origin/main", "--fail-on-regression")
    assert ok.returncode == 0, ok.stderr
    bar = sim.ledger(ci, "diff", "origin/main", "--fail-on-regression", "--threshold", "0.95")
    assert bar.returncode == 1
    assert "regression" in bar.stderr and sim.ids["better"] in bar.stderr
    # Only the worse run: worse than main's best, so a regression; within a tolerance it passes.
    worse = sim.ids["worse_commit"]
    assert sim.ledger(ci, "diff", "origin/main", worse, "--fail-on-regression").returncode == 1
    lenient = sim.ledger(ci, "diff", "origin/main", worse, "--fail-on-regression", "--tolerance", "0.2")
    assert lenient.returncode == 0, lenient.stderr
    # Without the flag a regression is reported, not fatal.
    assert sim.ledger(ci, "diff", "origin/main", worse).returncode == 0


def test_markdown_comment_for_the_branch(sim: Sim) -> None:
    proc = sim.ledger(sim.ci, "diff", "origin/main", "--format", "markdown")  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("<!-- ledger-diff -->\n")
    assert "✅ **improvement: the best new run beats the best on BASE**" in text
    summary, table = text.index("improvement"), text.index("| run | status | auc |")
    assert summary < table < text.index("<details>")
    for name in ("worse", "broken", "better", "dirty", "imported"):
        assert f"| {name} (`{sim.ids.get(name, IMPORTED)}`) |" in text
    assert "💥 failed" in text and "exited with code 3" in text
    assert "dirty code without a patch" in text


def test_check_rev_accepts_records_made_by_ledger(sim: Sim) -> None:
    proc = sim.ledger(sim.ci, "check", "--rev", "origin/main..HEAD")  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems" in proc.stderr


def test_check_rev_rejects_every_hostile_record(sim: Sim) -> None:
    proc = sim.ledger(sim.ci, "check", "--rev", "origin/main..origin/fork")  # type: ignore[attr-defined]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()

    def about(run_id: str) -> list[str]:
        return [line for line in lines if f"{record.record_path(run_id)}:" in line]

    assert any("aliases" in line for line in about(BOMB))
    assert any("python/object/apply" in line for line in about(PYTAG))
    assert any("/artifacts/0/path" in line and "inside the repository" in line for line in about(ESCAPE))
    assert any("larger than" in line for line in about(HUGE))
    assert {line.split(": ")[1] for line in about(INVALID)} >= {"/metrics/auc", "/status"}
    assert any("/params/api_token" in line for line in about(SECRET))
    assert about(INJECT) == []  # hostile text, but a valid record: the diff must neutralise it
    assert all(line.startswith("origin/fork:experiments/") for line in lines)
    assert not sim.marker.exists()


def test_diff_of_hostile_branch_neither_executes_nor_injects(sim: Sim) -> None:
    ci = sim.ci  # type: ignore[attr-defined]
    proc = sim.ledger(ci, "diff", "origin/main", "origin/fork", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert not sim.marker.exists()
    assert text.count("<!-- ledger-diff -->") == 1 and text.startswith("<!-- ledger-diff -->")
    assert "<img" not in text and "<script" not in text and "](https://" not in text
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    assert "@\u2060admin" in text and "https\u2060://" in text
    assert text.count("<details>") == text.count("</details>")
    assert "\n# heading" not in text
    assert "ghp_" not in text and "api\\_token: (missing) → &lt;redacted&gt;" in text  # not repeated
    for bad in (BOMB, PYTAG, ESCAPE, HUGE, INVALID):
        assert f"unreadable record, skipped: {record.record_path(bad)}" in text.replace("origin/fork:", "")  # noqa: E501
    rv = json.loads(sim.ledger(ci, "diff", "origin/main", "origin/fork", "--format", "json").stdout)
    assert [r["id"] for r in rv["runs"]] == [SECRET, INJECT]  # valid records are reviewed
    assert len(rv["invalid"]) == 5
    assert not sim.marker.exists()


def test_unknown_base_is_a_one_line_error(sim: Sim) -> None:
    proc = sim.ledger(sim.ci, "diff", "origin/nope")  # type: ignore[attr-defined]
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "fetch-depth: 0" in proc.stderr


def test_table_and_csv_formats(sim: Sim) -> None:
    ci = sim.ci  # type: ignore[attr-defined]
    table = sim.ledger(ci, "diff", "origin/main")
    assert table.returncode == 0, table.stderr
    first, *rest = table.stdout.splitlines()
    assert first.startswith("improvement: the best new run beats the best on BASE (origin/main at ")
    assert any(sim.ids["better"] in line and "better" in line for line in rest)
    csv = sim.ledger(ci, "diff", "origin/main", "--format", "csv").stdout.splitlines()
    assert csv[0] == "id,name,status,change,auc,vs best,vs baseline,verdict,warnings"
    assert len(csv) == 6
