"""The job-array scripts in docs/sweeps.md, run as a scheduler would run them: every task
with the variables its scheduler sets, in its own clone, all pushing to one remote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from support.repo import ROOT, git, python_on_path

TRAIN = """
import ledger
p = ledger.params()
ledger.log_metric("auc", p["lr"] * 10 + p["model"]["depth"])
"""
DOC = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")


def _block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    return next(b for b in blocks if marker in b)


def _project(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The repo with a training script, published to a bare remote; a PATH where `ledger`
    and `python` are this interpreter's."""
    (repo / "train.py").write_text(TRAIN)
    git(repo, "commit", "-qam", "train")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(remote, "config", "core.logAllRefUpdates", "true")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ledger").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ledger "$@"\n')
    (bin_dir / "ledger").chmod(0o755)
    env = {**os.environ, "PATH": python_on_path(bin_dir)}
    return remote, env


def _landed(remote: Path) -> list[dict[str, object]]:
    paths = git(remote, "ls-tree", "-r", "--name-only", "main", "experiments").splitlines()
    return [yaml.safe_load(git(remote, "show", f"main:{p}")) for p in paths
            if p.endswith(".yaml") and "/envs/" not in p]  # fmt: skip


def _assert_all_points_once(remote: Path) -> None:
    recs = _landed(remote)
    assert sorted(r["tags"]["sweep_point"] for r in recs) == ["0", "1", "2", "3"]  # type: ignore[index]
    assert all(r["status"] == "finished" for r in recs)
    updates = git(remote, "reflog", "show", "--format=%H", "refs/heads/main").split()[::-1]
    for old, new in zip(updates, updates[1:]):  # every update a fast-forward: none forced
        subprocess.run(["git", "merge-base", "--is-ancestor", old, new], cwd=remote, check=True)


def _run_tasks(script: list[str], envs: list[dict[str, str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen(script, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for env in envs]  # fmt: skip
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_the_sbatch_script_runs_every_shard_of_a_zero_based_array(repo: Path, tmp_path: Path) -> None:
    remote, env = _project(repo, tmp_path)
    script = tmp_path / "sweep.sbatch"
    script.write_text(_block("bash", "#SBATCH --array=0-3"))
    assert "--array=0-3" in script.read_text()
    slurm = {"SLURM_SUBMIT_DIR": str(repo), "SLURM_ARRAY_JOB_ID": "4242", "SLURM_ARRAY_TASK_MIN": "0",
             "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4", "TMPDIR": str(tmp_path)}  # fmt: skip
    envs = [{**env, **slurm, "SLURM_ARRAY_TASK_ID": str(i)} for i in range(4)]
    for result in _run_tasks(["bash", str(script)], envs, tmp_path):
        assert result.returncode == 0, result.stderr
    _assert_all_points_once(remote)
    assert not list(tmp_path.glob("sweep-4242-*"))  # the node-local clones are gone

    # A task the plan has no shard for is refused in one line, before anything runs.
    extra = _run_tasks(["bash", str(script)], [{**env, **slurm, "SLURM_ARRAY_TASK_ID": "4"}], tmp_path)[0]
    assert extra.returncode == 2
    errors = [line for line in extra.stderr.splitlines() if line.startswith("ledger:")]
    assert errors == ["ledger: error: SLURM_ARRAY_TASK_ID=4 is outside the sweep's 4 shards (array from 0, step 1): "
                      "submit the array with as many tasks as shards"]  # fmt: skip
    assert len(_landed(remote)) == 4


def test_the_kubernetes_indexed_job_runs_every_shard(repo: Path, tmp_path: Path) -> None:
    remote, env = _project(repo, tmp_path)
    job = yaml.safe_load(_block("yaml", "kind: Job"))
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    script = container["args"][0]
    pod_env = {e["name"]: e["value"] for e in container["env"]}
    pod_env["REPO_URL"] = str(remote)  # the cluster would reach the team's server instead
    envs, commands = [], []
    for index in range(spec["completions"]):
        pod = tmp_path / f"pod{index}"  # each pod has its own /tmp
        pod.mkdir()
        envs.append({**env, **pod_env, "JOB_COMPLETION_INDEX": str(index)})
        commands.append([*container["command"], script.replace("/tmp/work", str(pod / "work"))])
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=e, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for cmd, e in zip(commands, envs)]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    _assert_all_points_once(remote)
