"""A multi-stage DVC pipeline (prepare -> featurize -> train -> evaluate, each stage reading
the last one's output), recorded, shared with `ledger push` and reproduced in fresh clones,
as a teammate on another machine would: real git, a bare remote, DVC with a local remote.

The project is built once per module: its first results are committed and `dvc push`ed as
a DVC user leaves them, then two runs are recorded: one in which DVC skipped every stage
(nothing had changed) and one with `-p` overrides. `ledger push` shares both. A marker the
train stage writes proves that a reproduction recomputed it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.core import yamlio
from support.dvc_project import make_project
from support.repo import ledger_cli


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
    }  # fmt: skip


class Project:
    def __init__(self, base: Path):
        self.base = base
        self.origin, self.bare, self.remote = base / "origin", base / "bare.git", base / "dvc-remote"
        home = base / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = Test Author\n\temail = author@example.com\n")
        self.env = _env(home)
        self.skipped_id = ""  # `dvc repro` with nothing to do: every stage skipped
        self.override_id = ""  # `-p train.epochs=3`: train and evaluate ran
        self.skipped_stderr = ""

    def sh(self, cwd: Path, *argv: str) -> str:
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, env={**os.environ, **self.env})
        assert proc.returncode == 0, f"{argv}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def ledger(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return ledger_cli(cwd, *args, env={**self.env, **(env or {})}, timeout=300)

    def clone(self, name: str) -> Path:
        self.sh(self.base, "git", "clone", "-q", str(self.bare), name)
        return self.base / name

    def record(self, run_id: str) -> dict:
        return yamlio.load_file(self.origin / "experiments" / f"{run_id[:4]}-{run_id[4:6]}" / f"{run_id}.yaml")


def _run_id(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if " run " in ln and "finished" in ln][-1]
    return line.split(" run ")[1].split(",")[0].strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    p = Project(tmp_path_factory.mktemp("pipeline"))
    make_project(p.origin, p.remote)
    # The first results, committed and pushed as a DVC user does.
    p.sh(p.origin, "dvc", "repro", "-q")
    p.sh(p.origin, "git", "add", "-A")
    p.sh(p.origin, "git", "commit", "-qm", "first results")
    p.sh(p.origin, "dvc", "push", "-q")
    p.sh(p.base, "git", "init", "-q", "--bare", "-b", "main", str(p.bare))
    p.sh(p.origin, "git", "remote", "add", "origin", str(p.bare))
    p.sh(p.origin, "git", "push", "-q", "-u", "origin", "main")
    skipped = p.ledger(p.origin, "run", "--", "dvc", "repro")
    p.skipped_id, p.skipped_stderr = _run_id(skipped), skipped.stderr
    p.override_id = _run_id(p.ledger(p.origin, "run", "-p", "train.epochs=3", "--", "dvc", "repro"))
    pushed = p.ledger(p.origin, "push")  # records, and the runs' DVC outputs
    assert pushed.returncode == 0, pushed.stderr
    assert "DVC object(s)" in pushed.stdout, pushed.stdout
    yield p


def test_roles_follow_the_pipeline_dag(project: Project) -> None:
    rec = project.record(project.override_id)
    roles = {d["path"]: (d["role"], d["source"]) for d in rec["data"]}
    assert roles["data/raw.csv"] == ("data", "data/raw.csv.dvc")
    # produced by a stage: an output of that stage, however many later stages read it
    assert roles["data/prepared"] == ("out", "dvc.lock:prepare")
    assert roles["data/features"] == ("out", "dvc.lock:featurize")
    assert roles["model.json"] == ("out", "dvc.lock:train")
    assert roles["eval/metrics.json"] == ("out", "dvc.lock:evaluate")
    assert roles["train.py"] == ("dep", "dvc.lock:train")
    assert len(roles) == len(rec["data"])  # one entry per path
    assert all(d["matches"] for d in rec["data"])
    # nothing was out of date: no warning that data differs from its DVC version
    assert "differs from its DVC version" not in project.skipped_stderr


def _reproduce(project: Project, run_id: str, clone: Path, marker: Path) -> dict:
    proc = project.ledger(clone, "reproduce", run_id, "--format", "json", env={"TRAIN_MARKER": str(marker)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def test_a_run_with_overrides_is_reproduced_by_recomputing_every_stage(project: Project) -> None:
    clone = project.clone("fresh-override")
    marker = project.base / "override-marker"
    result = _reproduce(project, project.override_id, clone, marker)
    assert marker.read_text() == "train ran\n"  # the train stage really ran, once
    assert result["verdict"] == "reproduced"
    assert result["stages"] == ["prepare", "featurize", "train", "evaluate"]
    original = project.record(project.override_id)
    recorded = {d["path"]: d["hash"] for d in original["data"]}
    assert set(result["outputs"]) == {"data/prepared", "data/features", "model.json"}
    for path, output in result["outputs"].items():
        assert output["match"] and output["reproduced"] == recorded[path]
    assert {k: v["reproduced"] for k, v in result["metrics"].items()} == original["metrics"]
    assert result["artifacts"]["wine-model"]["match"] is True
    # the recomputed outputs are what the override made, not the committed first results
    committed = yamlio.load_file(clone / "dvc.lock")["stages"]["train"]["outs"][0]["md5"]
    assert committed != recorded["model.json"]
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout == ""


def test_a_run_whose_stages_dvc_skipped_is_recomputed_not_checked_out(project: Project) -> None:
    clone = project.clone("fresh-skipped")
    marker = project.base / "skipped-marker"
    result = _reproduce(project, project.skipped_id, clone, marker)
    assert marker.read_text() == "train ran\n"  # the model was remade, not checked out
    assert result["verdict"] == "reproduced"
    assert result["stages"] == ["prepare", "featurize", "train", "evaluate"]
    assert result["outputs"]["model.json"]["match"] is True
    rec = yamlio.load_file(next(clone.glob(f"experiments/*/{result['reproduction']}.yaml")))
    assert rec["reproduces"]["stages"] == result["stages"]
    assert "DVC recomputed the stages prepare, featurize, train, evaluate" in rec["notes"]


def test_ledger_push_makes_the_runs_outputs_reachable_from_another_clone(project: Project) -> None:
    original = project.record(project.override_id)
    [model] = [a for a in original["artifacts"] if a["name"] == "wine-model"]
    # only this run made that model (epochs=3): it reached the DVC remote through `ledger push`
    assert (project.remote / "files" / "md5" / model["hash"][:2] / model["hash"][2:]).is_file()
    clone = project.clone("fresh-artifact")
    got = project.ledger(clone, "artifact", "get", project.override_id, "wine-model", "-o", "got/model.json")
    assert got.returncode == 0, got.stderr
    assert hashlib.md5((clone / "got/model.json").read_bytes()).hexdigest() == model["hash"]
