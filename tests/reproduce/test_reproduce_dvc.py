"""`ledger reproduce` end to end with real DVC (a local directory remote), real git remotes
and a real scikit-learn training with a seed.

One project is built and run once per module (training and DVC are slow to start); each
test then works in its own fresh clone, as a teammate on another machine would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.core import yamlio
from support.repo import ledger_cli

TRAIN = """\
import pickle
import numpy as np
import ledger
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss

params = ledger.params()
data = np.loadtxt("data/train.csv", delimiter=",")
X, y = data[:, :-1], data[:, -1].astype(int)
cut = int(len(y) * 0.75)
model = RandomForestClassifier(
    n_estimators=params["n_estimators"], max_depth=params.get("max_depth"),
    random_state=params["seed"],
).fit(X[:cut], y[:cut])
proba = model.predict_proba(X[cut:])
ledger.log_metric("val/accuracy", accuracy_score(y[cut:], proba.argmax(axis=1)))
ledger.log_metric("val/logloss", log_loss(y[cut:], proba))
with open("model.pkl", "wb") as fh:
    pickle.dump(model, fh)
ledger.log_artifact("model.pkl", kind="model")
"""


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
    }  # fmt: skip


def sh(cwd: Path, *argv: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, env={**os.environ, **env})
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def dvc(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return sh(cwd, sys.executable, "-m", "dvc", *args, env=env)


class Project:
    """The origin project, its bare git remote, its DVC remote, and the recorded runs."""

    def __init__(self, base: Path, env: dict[str, str]):
        self.base, self.env = base, env
        self.origin, self.bare, self.remote = base / "origin", base / "bare.git", base / "dvc-remote"
        self.clean_id = ""
        self.dirty_id = ""

    def ledger(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return ledger_cli(cwd, *args, env=self.env, timeout=300)

    def clone(self, name: str) -> Path:
        target = self.base / name
        sh(self.base, "git", "clone", "-q", str(self.bare), str(target), env=self.env)
        return target


def _write_data(path: Path) -> None:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=1500, n_features=10, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [",".join(f"{v:.6f}" for v in x) + f",{t}" for x, t in zip(X, y)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _run_id(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if " run " in ln and "finished" in ln][-1]
    return line.split(" run ")[1].split(",")[0].strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("reproduce-dvc")
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    env = _env(home)
    p = Project(base, env)
    origin = p.origin
    origin.mkdir()
    sh(base, "git", "init", "-q", "--bare", "-b", "main", str(p.bare), env=env)
    sh(origin, "git", "init", "-q", "-b", "main", env=env)
    dvc(origin, "init", "-q", env=env)
    (origin / "params.yaml").write_text("seed: 42\nn_estimators: 120\n", encoding="utf-8")
    (origin / "ledger.yaml").write_text("experiment: repro\nprimary_metric: val/accuracy\n", encoding="utf-8")
    (origin / "train.py").write_text(TRAIN, encoding="utf-8")
    (origin / ".gitignore").write_text("/model.pkl\n", encoding="utf-8")
    _write_data(origin / "data" / "train.csv")
    dvc(origin, "add", "-q", "data/train.csv", env=env)
    dvc(origin, "remote", "add", "-q", "-d", "storage", str(p.remote), env=env)
    sh(origin, "git", "add", ".", env=env)
    sh(origin, "git", "commit", "-q", "-m", "project", env=env)
    sh(origin, "git", "remote", "add", "origin", str(p.bare), env=env)
    p.clean_id = _run_id(p.ledger(origin, "run", "--", sys.executable, "train.py"))
    # A second run on uncommitted code: only the recorded patch makes it reproducible.
    (origin / "train.py").write_text(TRAIN.replace('params.get("max_depth")', "4"), encoding="utf-8")
    p.dirty_id = _run_id(p.ledger(origin, "run", "--", sys.executable, "train.py"))
    dvc(origin, "push", "-q", env=env)
    sh(origin, "git", "push", "-q", "origin", "main", env=env)
    yield p


def _record(root: Path, run_id: str) -> dict:
    path = root / "experiments" / f"{run_id[:4]}-{run_id[4:6]}" / f"{run_id}.yaml"
    return yamlio.load_file(path)


def _snapshot(root: Path) -> dict[str, object]:
    """Everything of the user's checkout that reproduce must leave alone."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith((".git/", "experiments/", ".dvc/tmp/", ".dvc/cache/")):
            files[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    git = lambda *a: subprocess.run(["git", *a], cwd=root, capture_output=True, text=True).stdout  # noqa: E731
    index = "\n".join(ln for ln in git("ls-files", "-s").splitlines() if "\texperiments/" not in ln)
    return {"files": files, "index": index, "branch": git("symbolic-ref", "HEAD"),
            "status": git("status", "--porcelain", "--untracked-files=all")}  # fmt: skip


def _worktrees(root: Path) -> list[str]:
    out = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=root, capture_output=True, text=True)
    return [ln for ln in out.stdout.splitlines() if ln.startswith("worktree ")]


def test_run_records_data_and_model_through_dvc(project: Project) -> None:
    rec = _record(project.origin, project.clean_id)
    (data,) = rec["data"]
    assert data["path"] == "data/train.csv" and data["source"] == "data/train.csv.dvc"
    assert data["matches"] is True
    (model,) = rec["artifacts"]
    assert model["store"] == "dvc" and model["size"] > 1024 * 1024
    sidecar = project.origin / model["path"]
    assert not sidecar.exists()  # the bytes live in DVC's cache, not in git
    dvc_file = yamlio.load_file(sidecar.with_name("model.pkl.dvc"))
    assert dvc_file["outs"][0]["md5"] == model["hash"]
    assert (project.remote / "files" / "md5" / model["hash"][:2] / model["hash"][2:]).is_file()
    assert _record(project.origin, project.dirty_id)["code"]["dirty"] is True


def test_reproduce_in_a_fresh_clone_pulls_reruns_and_matches(project: Project) -> None:
    clone = project.clone("fresh")
    before = _snapshot(clone)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    proc = project.ledger(clone, "reproduce", project.clean_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reproduced: run" in proc.stdout
    assert _snapshot(clone) == before
    assert len(_worktrees(clone)) == 1
    # The reproduction is a run of its own, committed on the user's branch and nothing else.
    log = subprocess.run(["git", "log", "--format=%H %P", "-1"], cwd=clone, capture_output=True, text=True)
    assert log.stdout.split()[1] == head
    changed = subprocess.run(["git", "diff", "--name-only", head, "HEAD"], cwd=clone, capture_output=True, text=True)
    assert changed.stdout and all(p.startswith("experiments/") for p in changed.stdout.split())
    new_id = [p for p in changed.stdout.split() if p.endswith(".yaml") and "/envs/" not in p][0]
    rec = yamlio.load_file(clone / new_id)
    original = _record(project.origin, project.clean_id)
    assert rec["reproduces"]["run"] == project.clean_id
    assert rec["reproduces"]["verdict"] == "reproduced"
    assert rec["metrics"] == original["metrics"]
    assert set(rec["reproduces"]["deltas"]) == {"val/accuracy", "val/logloss"}
    assert all(d["match"] and d["delta"] == 0 for d in rec["reproduces"]["deltas"].values())
    assert rec["reproduces"]["artifacts"]["model.pkl"]["match"] is True
    assert rec["artifacts"][0]["hash"] == original["artifacts"][0]["hash"]
    assert rec["code"]["commit"] == original["code"]["commit"]
    # ...and the model, now in this clone's DVC cache, comes back with `ledger artifact get`.
    got = project.ledger(clone, "artifact", "get", project.clean_id, "model.pkl", "-o", "out/model.pkl")
    assert got.returncode == 0, got.stderr
    assert hashlib.md5((clone / "out/model.pkl").read_bytes()).hexdigest() == original["artifacts"][0]["hash"]
    # `dvc pull` brings the model back where the record says, like any DVC-tracked file.
    model = original["artifacts"][0]
    dvc(clone, "pull", "-q", f"{model['path']}.dvc", env=project.env)
    assert hashlib.md5((clone / model["path"]).read_bytes()).hexdigest() == model["hash"]


def test_reproduce_a_dirty_run_applies_its_patch(project: Project) -> None:
    clone = project.clone("fresh-dirty")
    proc = project.ledger(clone, "reproduce", project.dirty_id, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import json

    result = json.loads(proc.stdout)
    assert result["verdict"] == "reproduced"
    original = _record(project.origin, project.dirty_id)
    assert {k: v["reproduced"] for k, v in result["metrics"].items()} == original["metrics"]
    # The patch mattered: the committed code gives other numbers.
    assert original["metrics"] != _record(project.origin, project.clean_id)["metrics"]
    assert (clone / "train.py").read_text(encoding="utf-8") == TRAIN
    assert len(_worktrees(clone)) == 1


def _clone_with_remote_copy(project: Project, name: str) -> tuple[Path, Path]:
    clone = project.clone(name)
    remote = project.base / f"{name}-remote"
    shutil.copytree(project.remote, remote)
    dvc(clone, "remote", "modify", "--local", "storage", "url", str(remote), env=project.env)
    return clone, remote


def _data_object(remote: Path, project: Project) -> Path:
    md5 = _record(project.origin, project.clean_id)["data"][0]["hash"]
    return remote / "files" / "md5" / md5[:2] / md5[2:]


def test_data_changed_on_the_remote_is_not_reproduced(project: Project) -> None:
    clone, remote = _clone_with_remote_copy(project, "changed-data")
    obj = _data_object(remote, project)
    os.chmod(obj, 0o644)
    obj.write_text("0,0,0,0,0,0,0,0,0,0,1\n", encoding="utf-8")
    before = _snapshot(clone)
    proc = project.ledger(clone, "reproduce", project.clean_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "restored data differs from the record: data/train.csv" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _snapshot(clone) == before
    assert len(_worktrees(clone)) == 1


def test_missing_remote_object_is_reported(project: Project) -> None:
    clone, remote = _clone_with_remote_copy(project, "missing-data")
    _data_object(remote, project).unlink()
    proc = project.ledger(clone, "reproduce", project.clean_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "neither in your DVC cache nor on the remote" in proc.stderr
    assert "data/train.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert len(_worktrees(clone)) == 1


def test_untrusted_branch_needs_trust(project: Project) -> None:
    # A teammate's unmerged branch with a run on it, fetched into a fresh clone.
    mate = project.clone("teammate")
    sh(mate, "git", "checkout", "-q", "-b", "feature", env=project.env)
    (mate / "feature.py").write_text("print('from a branch')\n", encoding="utf-8")
    sh(mate, "git", "add", "feature.py", env=project.env)
    sh(mate, "git", "commit", "-qm", "feature", env=project.env)
    feature_id = _run_id(project.ledger(mate, "run", "--", sys.executable, "feature.py"))
    sh(mate, "git", "push", "-q", "origin", "feature", env=project.env)
    clone = project.clone("reviewer")
    before = _snapshot(clone)
    proc = project.ledger(clone, "reproduce", feature_id)
    assert proc.returncode == 1
    assert "comes from origin/feature" in proc.stderr and "--trust" in proc.stderr
    assert "feature.py" in proc.stderr and "Traceback" not in proc.stderr
    assert _snapshot(clone) == before and len(_worktrees(clone)) == 1
    trusted = project.ledger(clone, "reproduce", feature_id, "--trust")
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert "reproduced: run" in trusted.stdout
    unknown = project.ledger(clone, "reproduce", "20990101-000000-nothing-abcdef")
    assert unknown.returncode == 1 and "no run matches" in unknown.stderr
