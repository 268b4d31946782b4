"""`ledger select`, `ledger registry` and `ledger baseline`: decisions as reviewable files in
git, mirrored as GTO-compatible annotated tags; the baseline edited into ledger.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from ledger import registry
from ledger.cli import main
from ledger.core import schema, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import RecordError
from support.repo import git, ledger_cli


def _run(name: str, auc: float, f1: float, *, fail: bool = False) -> str:
    try:
        with ledger.start_run(name=name) as run:
            run.log_metrics({"auc": auc, "f1": f1, "val_loss": 1 - auc})
            if fail:
                raise RuntimeError("out of memory")
    except RuntimeError:
        pass
    return run.id


@pytest.fixture
def runs(repo: Path) -> dict[str, str]:
    (repo / "ledger.yaml").write_text(
        "# settings\nexperiment: churn\nprimary_metric: auc   # what we rank by\n", encoding="utf-8"
    )
    git(repo, "commit", "-qam", "settings")
    return {
        "base": _run("base", 0.70, 0.65),
        "good": _run("good", 0.90, 0.60),
        "ok": _run("ok", 0.80, 0.70),
        "broken": _run("broken", 0.95, 0.90, fail=True),
    }


def test_select_commits_a_decision_and_gto_tags(repo: Path, runs: dict[str, str]) -> None:
    assert main(["baseline", "base"]) == 0
    (repo / "train.py").write_text("print('changed')\n", encoding="utf-8")  # the user's own work
    (repo / "staged.txt").write_text("staged\n", encoding="utf-8")
    git(repo, "add", "staged.txt")
    before = git(repo, "status", "--porcelain")

    proc = ledger_cli(repo, "select", "good", "--rationale", "Best AUC, beats the baseline.", "--stage", "prod")
    assert proc.returncode == 0, proc.stderr
    assert "churn v1.0.0" in proc.stdout and "churn@v1.0.0, churn#prod#1" in proc.stdout
    assert git(repo, "status", "--porcelain") == before  # index and worktree untouched

    path = repo / "experiments/registry/churn/v1.0.0.yaml"
    decision = yamlio.load_file(path)
    schema.validate(decision, source=str(path), name="decision")
    assert git(repo, "show", "HEAD:experiments/registry/churn/v1.0.0.yaml") == path.read_text("utf-8").strip()
    assert decision["run"]["id"] == runs["good"] and decision["rationale"] == "Best AUC, beats the baseline."
    assert decision["selected_by"] == {"name": "Test Author", "email": "author@example.com"}
    assert decision["metric"] == {"name": "auc", "direction": "max", "value": 0.9}
    assert decision["baseline"]["run"] == runs["base"]
    assert decision["baseline"]["delta"] == pytest.approx(0.2)
    # It beat `ok` and `base` on auc; `ok` still wins on f1. The failed run is no alternative.
    beaten = {a["run"]: a for a in decision["alternatives"]}
    assert set(beaten) == {runs["ok"], runs["base"]}
    assert beaten[runs["ok"]]["beaten_on"] == ["auc", "val_loss"] and beaten[runs["ok"]]["lost_on"] == ["f1"]

    tags = git(repo, "tag", "-n")
    assert "churn#prod#1    Assigning stage prod to artifact churn version v1.0.0" in tags
    assert "churn@v1.0.0    ledger: select churn v1.0.0 = run good (auc=0.9)" in tags
    head = git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-parse", "churn@v1.0.0^{commit}") == head
    assert git(repo, "cat-file", "-t", "churn@v1.0.0") == "tag"  # annotated

    listing = ledger_cli(repo, "registry")
    assert listing.returncode == 0, listing.stderr
    assert "prod=v1.0.0" in listing.stdout and "Best AUC, beats the baseline." in listing.stdout

    # Selecting again bumps the version and GTO's stage counter.
    proc = ledger_cli(repo, "select", runs["ok"][:20], "-r", "Better f1 matters more.", "--stage", "prod")
    assert proc.returncode == 0, proc.stderr
    second = yamlio.load_file(repo / "experiments/registry/churn/v1.1.0.yaml")
    assert second["previous"]["version"] == "v1.0.0" and second["previous"]["delta"] == pytest.approx(-0.1)
    assert "churn#prod#2" in git(repo, "tag", "-l")
    data = json.loads(ledger_cli(repo, "registry", "--format", "json").stdout)
    assert data["models"] == [
        {
            "model": "churn",
            "versions": ["v1.0.0", "v1.1.0"],
            "stages": {"prod": "v1.1.0"},
            "latest": {"version": "v1.1.0", "run": runs["ok"], "name": "ok"},
        }
    ]
    assert [d["version"] for d in data["decisions"]] == ["v1.0.0", "v1.1.0"]


def test_gto_reads_the_tags(repo: Path, runs: dict[str, str]) -> None:
    from gto import api
    from gto.tag import parse_name

    assert main(["select", "good", "-r", "first", "--stage", "staging"]) == 0
    assert main(["select", "ok", "-r", "second", "--model", "churn-small", "--bump", "major"]) == 0
    assert main(["select", "good", "-r", "promote", "--stage", "prod", "--bump", "patch"]) == 0
    for tag in git(repo, "tag", "-l").split():
        assert parse_name(tag), tag
    shown = api.show(str(repo), table=False)
    assert shown["churn"]["version"] == "v1.0.1"
    assert shown["churn"]["stage"] == {"prod": "v1.0.1", "staging": "v1.0.0"}
    assert shown["churn-small"]["version"] == "v1.0.0" and shown["churn-small"]["registered"]
    assert set(api.get_stages(str(repo))) == {"prod", "staging"}


def test_concurrent_selections_each_get_their_own_version(repo: Path, runs: dict[str, str]) -> None:
    """Writers racing to select the same model: none replaces another's decision."""
    argv = [sys.executable, "-m", "ledger", "select", "good", "--stage", "prod"]
    for round_ in range(2):
        procs = [subprocess.Popen([*argv, "-r", f"round {round_} writer {k}"], cwd=repo, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for k in range(4)]  # fmt: skip
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    decisions = registry.load_decisions(Workspace.find(repo))
    said = sorted(f"round {r} writer {k}" for r in range(2) for k in range(4))
    assert sorted(d["rationale"] for d in decisions) == said
    versions = [d["version"] for d in decisions]
    assert sorted(versions, key=registry.parse_version) == [f"v1.{n}.0" for n in range(8)]
    stage_tags = sorted(d["tags"][1] for d in decisions)
    assert len(set(stage_tags)) == 8
    for d in decisions:  # each tag names the commit that holds its own decision, unchanged
        path = registry.decision_path("churn", d["version"])
        for tag in d["tags"]:
            held = yamlio.loads(git(repo, "show", f"{tag}:{path}").encode(), source=tag)
            assert held == d
        assert yamlio.load_file(repo / path) == d  # and the working tree shows the same
    assert git(repo, "status", "--porcelain") == ""
    git(repo, "fsck", "--strict")


def test_select_refuses_bad_requests_and_changes_nothing(
    repo: Path, runs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert main(["select", "broken", "-r", "why not"]) == 1
    assert "is failed: only a finished run can be selected" in capsys.readouterr().err
    assert main(["select", "good", "-r", "   "]) == 2
    assert "--rationale TEXT is required" in capsys.readouterr().err
    assert main(["select", "good", "-r", "x", "--model", "bad name!"]) == 2
    assert "GTO's naming rule" in capsys.readouterr().err
    assert main(["select", "good", "-r", "x", "--stage", "-prod"]) == 2
    assert main(["select", "nope", "-r", "x"]) == 1
    assert "no run matches 'nope'" in capsys.readouterr().err
    git(repo, "tag", "-a", "-m", "someone else's", "churn@v1.0.0")
    assert main(["select", "good", "-r", "x"]) == 1
    assert "tag churn@v1.0.0 already exists" in capsys.readouterr().err
    assert git(repo, "rev-parse", "HEAD") == head
    assert not (repo / "experiments/registry").exists()
    assert main(["registry"]) == 0
    assert "no model selected yet" in capsys.readouterr().out
    git(repo, "tag", "-d", "churn@v1.0.0")
    git(repo, "checkout", "-q", "--detach")
    assert main(["select", "good", "-r", "x"]) == 1
    assert "HEAD is detached" in capsys.readouterr().err
    assert not (repo / "experiments/registry").exists()
    assert git(repo, "tag", "-l") == ""


def test_a_tampered_decision_file_is_skipped(repo: Path, runs: dict[str, str]) -> None:
    assert main(["select", "good", "-r", "fine"]) == 0
    path = "experiments/registry/churn/v1.0.0.yaml"
    doc = yamlio.load_file(repo / path)
    doc["version"] = "v9.0.0"
    (repo / "experiments/registry/churn/v2.0.0.yaml").write_text(yamlio.dumps({**doc, "extra": 1}), "utf-8")
    git(repo, "add", "experiments/registry")
    git(repo, "commit", "-qm", "tamper")
    with pytest.raises(RecordError):
        schema.validate({**doc, "extra": 1}, source="x", name="decision")
    with pytest.warns(Warning, match="skipped a bad decision file"):
        decisions = registry.load_decisions(Workspace.find())
    assert [d["version"] for d in decisions] == ["v1.0.0"]


def test_baseline_edits_ledger_yaml_keeping_comments(
    repo: Path, runs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / "ledger.yaml"
    assert main(["baseline"]) == 0
    assert "no baseline" in capsys.readouterr().out
    assert main(["baseline", "base"]) == 0
    assert config.read_text("utf-8") == (
        f"# settings\nexperiment: churn\nprimary_metric: auc   # what we rank by\nbaseline: '{runs['base']}'\n"
    )
    config.write_text(config.read_text("utf-8").replace(f"baseline: '{runs['base']}'", "baseline: null  # ours"))
    assert main(["baseline", "ok"]) == 0
    assert f"baseline: '{runs['ok']}'  # ours\n" in config.read_text("utf-8")
    assert Workspace.find().config.baseline == runs["ok"]
    assert main(["baseline"]) == 0
    assert runs["ok"] in capsys.readouterr().out
    assert main(["baseline", "--clear"]) == 0
    assert "baseline: null  # ours\n" in config.read_text("utf-8")
    assert "# settings\n" in config.read_text("utf-8")
    # A value ledger cannot edit line by line is refused, and the file is left alone.
    odd = "experiment: churn\nbaseline:\n  - a\n"
    config.write_text(odd, "utf-8")
    assert main(["baseline", "ok"]) == 1
    assert "not a plain value" in capsys.readouterr().err
    assert config.read_text("utf-8") == odd


def test_ledger_check_validates_decision_files(repo: Path, runs: dict[str, str]) -> None:
    assert ledger_cli(repo, "select", "good", "--rationale", "best auc").returncode == 0
    clean = ledger_cli(repo, "check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    path = repo / "experiments/registry/churn/v1.0.0.yaml"
    decision = yamlio.load_file(path)
    del decision["rationale"]
    decision["version"] = "v9.9.9"
    yamlio.dump_file(path, decision)
    tampered = ledger_cli(repo, "check")
    assert tampered.returncode == 1
    assert "experiments/registry/churn/v1.0.0.yaml" in tampered.stdout + tampered.stderr
    assert "'rationale' is a required property" in tampered.stdout + tampered.stderr
    decision["rationale"] = "token ghp_" + "x" * 36
    decision["version"] = "v1.0.0"
    yamlio.dump_file(path, decision)
    leaked = ledger_cli(repo, "check")
    assert leaked.returncode == 1 and "/rationale" in leaked.stdout + leaked.stderr
    decision["rationale"] = "best auc"
    decision["version"] = "v9.9.9"
    yamlio.dump_file(path, decision)
    moved = ledger_cli(repo, "check")
    assert moved.returncode == 1 and "does not match the file name v1.0.0" in moved.stdout + moved.stderr
