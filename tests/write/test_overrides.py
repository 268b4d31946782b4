"""`-p` follows DVC's and Hydra's override grammar: `key=value` only for a key the params
file has, `+key=value` adds one, `~key` removes one; values are YAML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ledger.core import yamlio
from ledger.errors import LedgerWarning, UsageError
from ledger.sweep import plan as sweep_plan
from ledger.write.capture.params import apply_overrides, check_overrides
from support.repo import ledger_cli, records

PARAMS = {"lr": 0.1, "seed": 7, "train": {"C": 1.0, "max_iter": 100}}


def test_check_refuses_what_the_grammar_refuses() -> None:
    with pytest.raises(UsageError, match=r"no parameter 'train.Cx' in params.yaml; did you mean 'train.C'\? "
                                         r"to add it, write -p \+train.Cx=2"):  # fmt: skip
        check_overrides(PARAMS, ["train.Cx=2"])
    with pytest.raises(UsageError, match="'lr' is already in params.yaml .*write -p lr=0.2"):
        check_overrides(PARAMS, ["+lr=0.2"])
    with pytest.raises(UsageError, match="no parameter 'width' in params.yaml to remove"):
        check_overrides(PARAMS, ["~width"])
    with pytest.raises(UsageError, match=r"\(it has none\)"):
        check_overrides({}, ["lr=0.2"])
    with pytest.raises(UsageError, match="is 0.1 in params.yaml, not 0.5"):
        check_overrides(PARAMS, ["~lr=0.5"])
    with pytest.raises(UsageError, match="bad override"):
        check_overrides(PARAMS, ["+=3"])
    check_overrides(PARAMS, ["lr=0.2", "+train.gamma=0.5", "train.gamma=0.6", "~seed", "++lr=1", "++new=1", "~lr=1"])


def test_values_are_yaml_and_none_is_a_text() -> None:
    got = apply_overrides(PARAMS, ["lr=1e-3", "+layers=[64, 64]", "+note=null", "~train.max_iter", "+x.y=true"])
    assert got == {"lr": 0.001, "seed": 7, "train": {"C": 1.0}, "layers": [64, 64], "note": None, "x": {"y": True}}
    assert apply_overrides({}, ["+a='1e-3'"]) == {"a": "1e-3"}  # quoted: a text
    with pytest.warns(LedgerWarning, match="sets the text 'None'; for no value write -p seed=null"):
        check_overrides(PARAMS, ["seed=None"])
    assert apply_overrides(PARAMS, ["seed=None"])["seed"] == "None"


def test_ledger_run_refuses_a_typo_and_records_nothing(repo: Path) -> None:
    result = ledger_cli(repo, "run", "-p", "model.dept=6", "--", "true")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "no parameter 'model.dept'" in result.stderr and "did you mean 'model.depth'?" in result.stderr
    assert records(repo) == [] and not (repo / "experiments").exists()


def test_ledger_run_adds_and_removes_parameters(repo: Path) -> None:
    result = ledger_cli(repo, "run", "-p", "+model.width=64", "-p", "~lr", "-p", "seed=null", "--", "true")
    assert result.returncode == 0, result.stderr
    [path] = records(repo)
    rec = yamlio.load_file(path)
    assert rec["params"] == {"seed": None, "model": {"depth": 3, "width": 64}}
    assert rec["command"]["overrides"] == ["+model.width=64", "~lr", "seed=null"]


def test_overrides_written_into_the_params_file_of_a_pipeline(repo: Path) -> None:
    """A command that reads params.yaml itself (a DVC pipeline) sees the added key and not
    the removed one; the file is restored byte for byte afterwards."""
    original = (repo / "params.yaml").read_bytes()
    (repo / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (repo / "show.py").write_text(
        "import json, yaml\njson.dump(yaml.safe_load(open('params.yaml')), open('seen.json', 'w'))\n",
        encoding="utf-8",
    )
    result = ledger_cli(repo, "run", "-p", "+extra=[1, 2]", "-p", "~model.depth", "--", sys.executable, "show.py")
    assert result.returncode == 0, result.stderr
    assert json.loads((repo / "seen.json").read_text()) == {"lr": 0.1, "seed": 7, "model": {}, "extra": [1, 2]}
    assert (repo / "params.yaml").read_bytes() == original
    [path] = records(repo)
    assert yamlio.load_file(path)["params"] == {"lr": 0.1, "seed": 7, "model": {}, "extra": [1, 2]}


def test_sweep_keys_follow_the_same_grammar(repo: Path) -> None:
    result = ledger_cli(repo, "sweep", "-p", "lr=0.1,0.2", "-p", "model.dept=3,6", "--", "true")
    assert result.returncode == 2 and "did you mean 'model.depth'?" in result.stderr
    assert records(repo) == []
    result = ledger_cli(repo, "sweep", "-p", "+width=8,16", "-p", "~seed", "--", "true")
    assert result.returncode == 0, result.stderr
    recs = [yamlio.load_file(p) for p in records(repo)]
    assert sorted(r["params"].get("width") for r in recs) == [8, 16]
    assert all("seed" not in r["params"] for r in recs)


def test_sweep_points_are_named_by_what_varies() -> None:
    dims = sweep_plan.parse_dimensions(["model.lr=0.1,0.3", "model.depth=3", "+a.max_depth=2,4", "b.max_depth=5,6"])
    [first, *_] = sweep_plan.grid(dims)
    assert sweep_plan.point_name("gb", first, dims) == "gb-lr=0.1-a.max_depth=2-b.max_depth=5"
    fixed = sweep_plan.parse_dimensions(["lr=0.1"])
    assert sweep_plan.point_name("gb", sweep_plan.grid(fixed)[0], fixed) == "gb-p0"
