"""`ledger run -- dvc repro` on a real DVC pipeline (real git, real DVC, real dvclive)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.core import yamlio
from support.dvc_project import make_project
from support.repo import git, records


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dvc-template")
    make_project(base / "project", base / "remote")
    return base / "project"


@pytest.fixture
def project(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent), prepend=":")
    return root


def only_record(root: Path) -> dict:
    [path] = records(root)
    return yamlio.load_file(path)


def lock_entries(root: Path) -> dict[str, str]:
    lock = yamlio.load_file(root / "dvc.lock")
    found = {}
    for stage in lock["stages"].values():
        for item in [*stage.get("deps", []), *stage.get("outs", [])]:
            found[item["path"]] = item["md5"]
    return found


def test_dvc_repro_is_recorded_from_what_dvc_declares(project: Path) -> None:
    assert main(["run", "--", "dvc", "repro"]) == 0
    rec = only_record(project)
    assert rec["status"] == "finished"
    # params: every params file dvc.yaml declares, the default one at the top level
    assert {k: v for k, v in rec["params"].items() if k != "configs/model"} == yamlio.load_file(project / "params.yaml")
    assert rec["params"]["configs/model"] == {"hidden": 8, "activation": "relu"}
    # metrics: the evaluate stage's metrics file, and dvclive's
    evaluation = json.loads((project / "eval/metrics.json").read_text())
    assert rec["metrics"]["test/mse"] == evaluation["test"]["mse"]
    live = json.loads((project / "dvclive/metrics.json").read_text())
    assert rec["metrics"]["train/loss"] == live["train"]["loss"]
    assert "step" not in rec["metrics"]
    # step series: dvclive's TSV, one point per epoch
    summary = rec["series"]["metrics"]["train/loss"]
    assert summary["count"] == 5 and summary["last_step"] == 4
    tsv = (project / "dvclive/plots/metrics/train/loss.tsv").read_text().splitlines()[1:]
    assert summary["last"] == float(tsv[-1].split("\t")[-1])
    series = (project / rec["series"]["path"]).read_text()
    assert series.count("\ttrain/loss\t") == 5
    # data and output hashes: dvc.lock after the run, and the .dvc file
    locked = lock_entries(project)
    recorded = {d["path"]: d["hash"] for d in rec["data"]}
    for path, md5 in locked.items():
        assert recorded[path] == md5, path
    raw = yamlio.load_file(project / "data/raw.csv.dvc")["outs"][0]["md5"]
    assert recorded["data/raw.csv"] == raw
    # artifacts: dvc.yaml's artifacts section, hashed as in dvc.lock
    [artifact] = rec["artifacts"]
    assert artifact == {"name": "wine-model", "path": "model.json", "hash": locked["model.json"],
                        "size": (project / "model.json").stat().st_size, "kind": "model",
                        "store": "dvc"}  # fmt: skip
    assert rec["code"]["dirty"] is False


def test_overrides_reach_the_pipeline_and_the_params_file_is_restored(project: Path) -> None:
    before = (project / "params.yaml").read_bytes()
    code = main(["run", "-p", "train.epochs=3", "-p", "train.lr=0.05", "--", "dvc", "repro"])
    assert code == 0
    assert (project / "params.yaml").read_bytes() == before
    rec = only_record(project)
    assert rec["params"]["train"] == {"lr": 0.05, "epochs": 3}
    assert rec["params"]["prepare"] == {"split": 0.25, "seed": 11}
    # the stages really ran with the overrides: dvc.lock says so, dvclive logged 3 epochs
    train_params = yamlio.load_file(project / "dvc.lock")["stages"]["train"]["params"]
    assert train_params["params.yaml"]["train"] == {"lr": 0.05, "epochs": 3}
    assert rec["series"]["metrics"]["train/loss"]["count"] == 3
    assert rec["command"]["overrides"] == ["train.epochs=3", "train.lr=0.05"]
    # the code patch carries the params change, so a reproduction repeats it
    assert rec["code"]["dirty"] is True
    patch = (project / rec["code"]["patch"]).read_text()
    assert "+++ b/params.yaml" in patch and "+  epochs: 3" in patch and "+  lr: 0.05" in patch
    # only the two values changed: comments and layout are untouched
    changed = [line for line in patch.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-  lr: 0.1", "-  epochs: 5", "+  lr: 0.05", "+  epochs: 3"]
    assert git(project, "diff", "--stat", "HEAD", "--", "params.yaml") == ""


def test_params_file_restored_after_a_failing_pipeline(project: Path) -> None:
    before = (project / "params.yaml").read_bytes()
    code = main(["run", "-p", "train.epochs=0", "--", "dvc", "repro"])
    assert code != 0
    assert (project / "params.yaml").read_bytes() == before
    rec = only_record(project)
    assert rec["status"] == "failed"
    assert rec["error"]["exit_code"] == code
    assert rec["params"]["train"]["epochs"] == 0


SLEEPER = "import sys, time\nprint('READY', flush=True)\ntime.sleep(120)\n"


def kill_a_run_with_overrides(project: Path) -> None:
    """`ledger run -p train.lr=0.5` SIGKILLed (with its child) while the override is in place."""
    (project / "sleeper.py").write_text(SLEEPER, encoding="utf-8")
    argv = [sys.executable, "-m", "ledger", "run", "--force", "-p", "train.lr=0.5", "--", sys.executable, "sleeper.py"]
    proc = subprocess.Popen(argv, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    assert proc.stdout is not None and "READY" in proc.stdout.readline()
    assert b"lr: 0.5" in (project / "params.yaml").read_bytes()  # the override is in place
    found = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "sleeper.py"], capture_output=True, text=True)
    [child] = found.stdout.split()  # the command, not ledger's watchdog
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
    try:
        os.killpg(int(child), signal.SIGKILL)  # the command has a process group of its own
    except ProcessLookupError:
        pass  # ledger's watchdog stopped it first
    proc.communicate(timeout=60)
    assert b"lr: 0.5" in (project / "params.yaml").read_bytes()


def test_a_killed_run_leaves_no_override_behind(project: Path) -> None:
    """SIGKILL cannot be caught: the override stays in params.yaml until the next ledger
    command finds its writer gone and puts the original bytes back."""
    before = (project / "params.yaml").read_bytes()
    kill_a_run_with_overrides(project)
    assert main(["status"]) == 0  # any later command
    assert (project / "params.yaml").read_bytes() == before
    assert not list((project / ".git/ledger-overrides").glob("*.json"))
    assert only_record(project)["status"] == "crashed"


def test_a_params_file_edited_after_a_kill_is_kept(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kill_a_run_with_overrides(project)
    edited = b"# the user's own edit after the crash\ntrain:\n  lr: 0.7\n"
    (project / "params.yaml").write_bytes(edited)
    assert main(["run", "--force", "-p", "train.lr=0.3", "--", sys.executable, "-c", "pass"]) == 0
    assert "params.yaml changed after a killed `ledger run -p` overrode it: left as it is" in capsys.readouterr().err
    assert (project / "params.yaml").read_bytes() == edited  # the user's edit survives both


def test_only_inputs_that_really_differ_are_warned_about(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After `dvc repro train` alone, dvc.lock's evaluate stage still names the old model:
    a pipeline output, not data that differs. A changed raw file is."""
    subprocess.run(["dvc", "repro", "-q"], cwd=project, check=True, capture_output=True)
    params = (project / "params.yaml").read_text(encoding="utf-8")
    (project / "params.yaml").write_text(params.replace("lr: 0.1", "lr: 0.2"), encoding="utf-8")
    subprocess.run(["dvc", "repro", "-q", "train"], cwd=project, check=True, capture_output=True)
    with (project / "data/raw.csv").open("a", encoding="utf-8") as fh:
        fh.write("0.1,0.2,0.3\n")
    capsys.readouterr()
    assert main(["run", "--", sys.executable, "-c", "pass"]) == 0
    err = capsys.readouterr().err
    assert "data differs from its DVC version: data/raw.csv (" in err, err
    assert "model.json" not in err and "data/features" not in err
    rec = only_record(project)
    roles = {d["path"]: (d["role"], d["matches"]) for d in rec["data"]}
    assert roles["model.json"] == ("out", True) and roles["data/raw.csv"] == ("data", False)


def test_a_failed_pipeline_run_carries_no_metrics_of_an_earlier_run(project: Path) -> None:
    assert main(["run", "--", "dvc", "repro"]) == 0
    assert main(["run", "-p", "train.epochs=0", "--", "dvc", "repro"]) != 0
    by_status = {r["status"]: r for r in map(yamlio.load_file, records(project))}
    assert {"test/mse", "train/loss"} <= set(by_status["finished"]["metrics"])
    # the metrics files the first run left are still there; the failed run made none
    assert (project / "eval/metrics.json").is_file()
    assert by_status["failed"]["metrics"] == {}
    assert by_status["failed"].get("series") is None


SLOW_STAGE = """\
  slow:
    cmd: python slow.py
    deps: [slow.py]
    outs: [slow.txt]
"""
SLOW = """\
import os, time
open("slow.pid", "w").write(str(os.getpid()))
print("READY", flush=True)
time.sleep(30)
open("slow.txt", "w").write("finished")
"""


def test_sigint_to_ledger_alone_stops_dvc_and_its_stage(project: Path) -> None:
    """DVC ignores SIGINT while a stage runs: a signal sent to `dvc` alone lets the stage
    finish. Ledger sends it to the command's whole process group."""
    dvc_yaml = (project / "dvc.yaml").read_text(encoding="utf-8")
    (project / "dvc.yaml").write_text(dvc_yaml.replace("artifacts:", SLOW_STAGE + "artifacts:"), encoding="utf-8")
    (project / "slow.py").write_text(SLOW, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "run", "--", "dvc", "repro", "slow"], cwd=project,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - as a terminal starts it
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # DVC's own lines, then the stage's
        if "READY" in line:
            break
    proc.send_signal(signal.SIGINT)  # to ledger only, as `kill -INT PID` does
    _, err = proc.communicate(timeout=25)  # well before the stage would have finished
    assert proc.returncode == 130, err
    stage_pid = int((project / "slow.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(stage_pid, 0)
    assert not (project / "slow.txt").exists()
    rec = only_record(project)
    assert rec["status"] == "killed" and rec["error"]["signal"] == "SIGINT"
    assert rec["error"]["exit_code"] != 0
