"""`ledger reproduce` without DVC: verdicts, tolerance, environments, failures, interrupts,
and the user's checkout left exactly as it was."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.core import yamlio
from support.repo import git, records

SCRIPT = """\
import os, ledger
p = ledger.params()
ledger.log_metric("score", p["lr"] * 10 + float(os.environ.get("DRIFT", "0")))
ledger.log_metric("depth", p["model"]["depth"])
with open("weights.bin", "wb") as fh:
    fh.write(bytes(range(256)) * int(os.environ.get("WEIGHT_KB", "4")) * 4)
ledger.log_artifact("weights.bin", kind="model")
marker = os.environ.get("SLOW_MARKER")
if marker:
    open(marker, "w").write(os.getcwd())
    import time
    time.sleep(120)
if os.environ.get("FAIL"):
    raise SystemExit(3)
"""


@pytest.fixture
def project(repo: Path) -> Path:
    (repo / "script.py").write_text(SCRIPT, encoding="utf-8")
    (repo / ".gitignore").write_text("/weights.bin\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "script")
    return repo


def _run(root: Path, *extra: str) -> dict:
    before = set(records(root))
    assert main(["run", *extra, "--", sys.executable, "script.py"]) == 0
    (new,) = set(records(root)) - before
    return yamlio.load_file(new)


def _latest(root: Path, since: set[Path]) -> dict:
    (new,) = set(records(root)) - since
    return yamlio.load_file(new)


def _snapshot(root: Path) -> dict[str, object]:
    files = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith((".git/", "experiments/"))
    }
    index = [ln for ln in git(root, "ls-files", "-s").splitlines() if "\texperiments/" not in ln]
    status = [ln for ln in git(root, "status", "--porcelain").splitlines() if "experiments/" not in ln]
    return {"files": files, "index": index, "status": status, "branch": git(root, "symbolic-ref", "HEAD")}


def _worktrees(root: Path) -> list[str]:
    return [ln for ln in git(root, "worktree", "list", "--porcelain").splitlines() if ln.startswith("worktree ")]


def test_reproduced_run_is_a_committed_record_and_the_checkout_is_untouched(project: Path) -> None:
    original = _run(project, "-p", "lr=0.25")
    # The user is mid-work: an unstaged edit, a staged file and an untracked one.
    (project / "train.py").write_text("print('edited')\n", encoding="utf-8")
    (project / "staged.txt").write_text("staged\n", encoding="utf-8")
    git(project, "add", "staged.txt")
    (project / "notes.txt").write_text("untracked\n", encoding="utf-8")
    before, head = _snapshot(project), git(project, "rev-parse", "HEAD")
    since = set(records(project))
    assert main(["reproduce", original["id"]]) == 0
    assert _snapshot(project) == before
    assert _worktrees(project) == [f"worktree {project}"]
    rec = _latest(project, since)
    assert rec["reproduces"]["run"] == original["id"]
    assert rec["reproduces"]["verdict"] == "reproduced"
    assert rec["params"]["lr"] == 0.25 and rec["command"]["overrides"] == ["lr=0.25"]
    assert rec["reproduces"]["deltas"]["score"] == {"recorded": 2.5, "reproduced": 2.5, "delta": 0.0, "match": True}
    assert rec["reproduces"]["artifacts"]["weights.bin"]["match"] is True
    assert rec["code"]["commit"] == original["code"]["commit"] and rec["code"]["dirty"] is False
    # Committed on the user's branch, in a commit of ledger files only.
    assert git(project, "rev-parse", "HEAD~1") == head
    assert all(p.startswith("experiments/") for p in git(project, "diff", "--name-only", head, "HEAD").split())
    assert f"Ledger-Run: {rec['id']}" in git(project, "log", "-1", "--format=%B")


def test_metrics_that_differ_fail_unless_within_tolerance(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _run(project)
    monkeypatch.setenv("DRIFT", "0.001")
    since = set(records(project))
    assert main(["reproduce", original["id"]]) == 1
    rec = _latest(project, since)
    assert rec["reproduces"]["verdict"] == "differs"
    delta = rec["reproduces"]["deltas"]["score"]
    assert delta["match"] is False and delta["delta"] == pytest.approx(0.001)
    assert rec["reproduces"]["deltas"]["depth"]["match"] is True
    out = capsys.readouterr().out
    assert "differs: run" in out and "NO" in out
    assert main(["reproduce", original["id"], "--tolerance", "0.01"]) == 0
    assert main(["reproduce", original["id"], "--tolerance", "0.00001"]) == 1
    assert _worktrees(project) == [f"worktree {project}"]


def test_changed_artifact_hash_is_a_difference(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = _run(project)
    monkeypatch.setenv("WEIGHT_KB", "5")
    since = set(records(project))
    assert main(["reproduce", original["id"]]) == 1
    rec = _latest(project, since)
    assert rec["reproduces"]["verdict"] == "differs"
    assert rec["reproduces"]["artifacts"]["weights.bin"]["match"] is False
    assert all(d["match"] for d in rec["reproduces"]["deltas"].values())


def test_a_failing_rerun_is_recorded_and_leaves_no_worktree(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = _run(project)
    monkeypatch.setenv("FAIL", "1")
    since = set(records(project))
    assert main(["reproduce", original["id"]]) == 1
    rec = _latest(project, since)
    assert rec["status"] == "failed" and rec["reproduces"]["verdict"] == "failed"
    assert "failed: run" in capsys.readouterr().out
    assert _worktrees(project) == [f"worktree {project}"]
    assert not list(Path(tempfile.gettempdir()).glob(f"ledger-reproduce-*/{project.name}"))


def test_a_dirty_run_is_rerun_with_its_patch(project: Path) -> None:
    (project / "params.yaml").write_text("lr: 0.3\nseed: 7\nmodel:\n  depth: 5\n", encoding="utf-8")
    (project / "helper.py").write_text("VALUE = 1\n", encoding="utf-8")  # untracked source
    original = _run(project)
    assert original["code"]["dirty"] is True and original["metrics"]["depth"] == 5
    git(project, "checkout", "-q", "--", "params.yaml")
    (project / "helper.py").unlink()
    since = set(records(project))
    assert main(["reproduce", original["id"]]) == 0
    rec = _latest(project, since)
    assert rec["metrics"] == original["metrics"]
    assert rec["code"]["patch_hash"] == original["code"]["patch_hash"]
    assert not (project / "helper.py").exists()


def test_strict_env_fails_on_a_changed_package_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = _run(project)
    env_path = project / original["env"]["file"]
    env = yamlio.load_file(env_path)
    env["packages"]["pyyaml"] = "0.0.1"
    yamlio.dump_file(env_path, env)
    git(project, "commit", "-q", "-am", "someone edits the recorded environment")
    since = set(records(project))
    assert main(["reproduce", original["id"], "--strict-env"]) == 1
    err = capsys.readouterr().err
    assert "environment differs" in err and "pyyaml 0.0.1 -> " in err
    assert set(records(project)) == since  # nothing ran
    assert _worktrees(project) == [f"worktree {project}"]
    # Without --strict-env it runs, and the record lists the difference.
    assert main(["reproduce", original["id"]]) == 0
    rec = _latest(project, since)
    assert any(d.startswith("pyyaml 0.0.1 -> ") for d in rec["reproduces"]["env_differences"])


def test_unknown_run_and_bad_tolerance(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "20990101-000000-nope-abcdef"]) == 1
    assert "no run matches" in capsys.readouterr().err
    original = _run(project)
    assert main(["reproduce", original["id"], "--tolerance", "-1"]) == 1
    assert "--tolerance" in capsys.readouterr().err


def test_a_tampered_patch_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "train.py").write_text("print('changed')\n", encoding="utf-8")
    original = _run(project)
    patch = project / original["code"]["patch"]
    patch.write_bytes(patch.read_bytes().replace(b"changed", b"evil!!!"))
    git(project, "commit", "-q", "-am", "tamper")
    assert main(["reproduce", original["id"]]) == 1
    assert "does not match its recorded hash" in capsys.readouterr().err


def test_sigint_mid_run_removes_the_worktree(project: Path, tmp_path: Path) -> None:
    original = _run(project)
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "reproduce", original["id"]],
        cwd=project, env={**os.environ, "SLOW_MARKER": str(marker)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for _ in range(600):
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.1)
    worktree = Path(marker.read_text())
    assert worktree.is_dir() and not worktree.is_relative_to(project)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not worktree.exists() and not worktree.parent.exists()
    assert _worktrees(project) == [f"worktree {project}"]
    killed = [yamlio.load_file(p) for p in records(project)]
    assert [r["status"] for r in killed if r.get("reproduces")] == ["killed"]


def test_sigterm_mid_run_still_cleans_up(project: Path, tmp_path: Path) -> None:
    original = _run(project)
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "reproduce", original["id"]],
        cwd=project, env={**os.environ, "SLOW_MARKER": str(marker)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for _ in range(600):
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.1)
    worktree = Path(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not worktree.exists()
    assert _worktrees(project) == [f"worktree {project}"]


def test_keep_leaves_the_worktree_for_inspection(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = _run(project)
    assert main(["reproduce", original["id"], "--keep"]) == 0
    err = capsys.readouterr().err
    kept = Path(err.split("kept the worktree at ")[1].split(" (")[0])
    assert (kept / "script.py").is_file()
    git(project, "worktree", "remove", "--force", str(kept))
    kept.parent.rmdir()


def test_metric_comparison_rules() -> None:
    from ledger.reproduce.compare import metric_matches, params_differences, verdict

    assert metric_matches(0.5, 0.5, None) and not metric_matches(0.5, 0.5000001, None)
    assert metric_matches(100.0, 100.9, 0.01) and not metric_matches(100.0, 102.0, 0.01)
    assert metric_matches(float("nan"), float("nan"), None)
    assert not metric_matches(1.0, None, 0.5) and not metric_matches(0.0, 1e-12, 0.1)
    assert params_differences({"a": {"b": 1}, "c": 2}, {"a": {"b": 2}, "d": 3}) == [
        "a.b: 1 -> 2", "c: 2 -> (none)", "d: (none) -> 3",
    ]  # fmt: skip
    ok = {"m": {"match": True}}
    assert verdict("finished", ok, {}, []) == "reproduced"
    assert verdict("finished", {"m": {"match": False}}, {}, []) == "differs"
    assert verdict("finished", ok, {}, ["lr: 1 -> 2"]) == "differs"
    assert verdict("killed", ok, {}, []) == "failed"


def test_recorded_placeholders_are_made_local(tmp_path: Path) -> None:
    from ledger.reproduce.rerun import local_argv

    argv = local_argv(["<python>/bin/python", "train.py", "--out", "<home>/x"], tmp_path)
    assert Path(argv[0]).is_file() and argv[1] == "train.py"
    assert argv[2:] == ["--out", os.path.join(os.path.expanduser("~"), "x")]
    assert local_argv(["./run.sh"], tmp_path) == [str(tmp_path / "./run.sh")]
    assert local_argv(["python", "a.py"], tmp_path) == ["python", "a.py"]


def test_the_records_environment_is_allowlisted(project: Path, tmp_path: Path) -> None:
    from ledger.core.workspace import Workspace
    from ledger.reproduce.rerun import recorded_env

    original = _run(project)
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran-outside-code"
    (evil / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n", encoding="utf-8")
    (path,) = records(project)
    rec = yamlio.load_file(path)
    rec["env"]["variables"] = {"PYTHONPATH": str(evil), "LD_PRELOAD": "/no/such.so", "OMP_NUM_THREADS": "3"}
    yamlio.dump_file(path, rec)
    seen = recorded_env(Workspace(project), rec)
    assert seen.applied == {"OMP_NUM_THREADS": "3"} and sorted(seen.ignored) == ["LD_PRELOAD", "PYTHONPATH"]
    assert "OMP_NUM_THREADS=3" in seen.describe() and "PYTHONPATH" in seen.describe()
    main(["reproduce", original["id"]])
    assert not marker.exists()  # the record's PYTHONPATH never reached the rerun
