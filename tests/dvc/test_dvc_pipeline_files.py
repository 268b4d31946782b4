"""What ledger reads from a DVC pipeline's files, and the params file under signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.core import yamlio
from ledger.dvc import pipeline as dvcpipeline
from ledger.errors import ConfigError
from ledger.write.overrides import render_yaml
from support.repo import records

DVC_YAML = """\
params: [extra/top.json]
metrics: [summary.toml]
stages:
  a:
    cmd: python a.py
    params:
      - lr
      - configs/b.yaml:
          - depth
      - ${vars_file}:
    metrics:
      - out/m.yaml:
          cache: false
      - ../../escape.json
  b:
    wdir: sub
    cmd: python b.py
    params:
      - local.toml:
    metrics: [scores.json]
artifacts:
  clf:
    path: model.bin
    type: model
  outside:
    path: ../model.bin
"""


def test_load_reads_every_declared_file(repo: Path) -> None:
    (repo / "dvc.yaml").write_text(DVC_YAML, encoding="utf-8")
    pipeline = dvcpipeline.load(repo)
    assert pipeline is not None
    assert pipeline.params_files == (
        "configs/b.yaml", "extra/top.json", "params.yaml", "sub/local.toml",
    )  # fmt: skip
    assert pipeline.metrics_files == ("out/m.yaml", "sub/scores.json", "summary.toml")
    assert list(pipeline.artifacts) == ["clf"]


def test_metrics_and_params_in_yaml_json_toml(repo: Path) -> None:
    (repo / "dvc.yaml").write_text(DVC_YAML, encoding="utf-8")
    (repo / "configs").mkdir()
    (repo / "configs/b.yaml").write_text("depth: 4\n", encoding="utf-8")
    (repo / "extra").mkdir()
    (repo / "extra/top.json").write_text('{"batch": 32}', encoding="utf-8")
    (repo / "sub").mkdir()
    (repo / "sub/local.toml").write_text("[opt]\nname = 'adam'\n", encoding="utf-8")
    (repo / "out").mkdir()
    (repo / "out/m.yaml").write_text("val:\n  auc: 0.75\n  note: text\n", encoding="utf-8")
    (repo / "sub/scores.json").write_text('{"f1": 0.5, "ok": true}', encoding="utf-8")
    (repo / "summary.toml").write_text("auc = 0.8\n[test]\nrmse = 1.5\n", encoding="utf-8")
    pipeline = dvcpipeline.load(repo)
    assert pipeline is not None
    params = dvcpipeline.read_params(pipeline, "params.yaml")
    assert params == {"lr": 0.1, "seed": 7, "model": {"depth": 3}, "configs/b": {"depth": 4},
                      "extra/top": {"batch": 32}, "sub/local": {"opt": {"name": "adam"}}}  # fmt: skip
    assert dvcpipeline.read_metrics(pipeline) == {
        "val/auc": 0.75, "f1": 0.5, "auc": 0.8, "test/rmse": 1.5,
    }  # fmt: skip


def test_bad_dvc_yaml_is_a_one_line_error(repo: Path) -> None:
    (repo / "dvc.yaml").write_text("stages: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="dvc.yaml"):
        dvcpipeline.load(repo)


def test_toml_params_file_cannot_take_overrides(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "ledger.yaml").write_text("params_file: params.toml\n", encoding="utf-8")
    (repo / "params.toml").write_text("lr = 0.1\n", encoding="utf-8")
    (repo / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    assert main(["run", "--force", "-p", "lr=0.2", "--", "true"]) == 1
    assert "YAML or JSON params file" in capsys.readouterr().err
    assert (repo / "params.toml").read_text() == "lr = 0.1\n"
    assert records(repo) == []


def test_json_params_file_takes_overrides_and_is_restored(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("params_file: params.json\n", encoding="utf-8")
    original = b'{"lr": 0.1,   "nested": {"a": 1}}'
    (repo / "params.json").write_bytes(original)
    (repo / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (repo / "show.py").write_text(
        "import json; print(json.load(open('params.json'))['nested']['a'])\n", encoding="utf-8"
    )
    assert main(["run", "-p", "nested.a=5", "--", sys.executable, "show.py"]) == 0
    assert (repo / "params.json").read_bytes() == original
    [path] = records(repo)
    assert yamlio.load_file(path)["params"]["nested"] == {"a": 5}


SLOW = """\
import pathlib, time, yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
pathlib.Path("seen.txt").write_text(str(lr))
time.sleep(120)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_params_file_restored_when_the_run_is_killed(repo: Path, signum: int) -> None:
    (repo / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (repo / "slow.py").write_text(SLOW, encoding="utf-8")
    before = (repo / "params.yaml").read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "run", "-p", "lr=0.5", "--", sys.executable, "slow.py"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(600):  # wait (up to a minute) until the child has read its params
            if (repo / "seen.txt").exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert (repo / "seen.txt").read_text() == "0.5"
        assert b"lr: 0.5" in (repo / "params.yaml").read_bytes()
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert (repo / "params.yaml").read_bytes() == before
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["status"] == "killed"
    assert rec["params"]["lr"] == 0.5


@pytest.mark.parametrize(
    ("original", "overrides", "expected"),
    [
        # in place: comments, quoting and order survive
        (
            "# top\nlr: 0.1  # rate\nmodel:\n  depth: 3\n  name: 'a'\n",
            ["model.depth=6", "lr=0.2"],
            "# top\nlr: 0.2  # rate\nmodel:\n  depth: 6\n  name: 'a'\n",
        ),
        ("a:\n  b:\n    c: x\n  d: 1\n", ["a.d=text"], "a:\n  b:\n    c: x\n  d: text\n"),
        # a new key or a non-scalar value: the whole document is rewritten
        ("lr: 0.1 # c\n", ["extra=1"], "lr: 0.1\nextra: 1\n"),
        ("lr: 0.1\n", ["lr=[1, 2]"], "lr:\n- 1\n- 2\n"),
        # a value holding `#`: the in-place edit is checked, and rewritten when it is wrong
        ("s: 'a # b'\nt: 1\n", ["s=c"], "s: c\nt: 1\n"),
    ],
)
def test_overrides_edit_yaml_in_place_when_exact(original: str, overrides: list[str], expected: str) -> None:
    rendered = render_yaml(original, yamlio.loads(original), overrides)
    assert rendered == expected


def test_other_commands_get_only_the_metrics_they_wrote(repo: Path) -> None:
    (repo / "dvc.yaml").write_text("metrics: [old.json, new.json]\nstages: {}\n", encoding="utf-8")
    (repo / "old.json").write_text('{"auc": 0.5, "stale": 1}', encoding="utf-8")
    os.utime(repo / "old.json", (time.time() - 600, time.time() - 600))
    (repo / "evaluate.py").write_text("import json; json.dump({'auc': 0.9}, open('new.json', 'w'))\n", encoding="utf-8")
    assert main(["run", "--", sys.executable, "evaluate.py"]) == 0
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["metrics"] == {"auc": 0.9}  # the stale file from an earlier run is not credited
    assert rec["params"] == {"lr": 0.1, "seed": 7, "model": {"depth": 3}}
