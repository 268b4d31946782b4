"""The CLI contract: exit codes, one-line errors, help for every command, init."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from ledger.cli import COMMANDS, build_parser, main
from support.repo import git, ledger_cli, records


def one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("ledger: error: ")
    return lines[0]


def test_every_command_and_argument_has_help() -> None:
    missing = []

    def walk(parser: argparse.ArgumentParser, where: str) -> None:
        for action in parser._actions:
            if action.dest != "help" and not action.help:
                missing.append(f"{where} {action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    if not child.description:
                        missing.append(f"{where} {name}: no description")
                    walk(child, f"{where} {name}")

    parser = build_parser()
    walk(parser, "ledger")
    assert missing == []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(commands.choices) == list(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_exits_zero(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    assert "usage: ledger" in capsys.readouterr().out


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2


def test_malformed_params_file_loses_nothing(repo: Path) -> None:
    (repo / "params.yaml").write_text("lr: [0.1\n")
    result = ledger_cli(repo, "run", "--", sys.executable, "-c", "print(1)")
    assert result.returncode == 1
    line = one_line_error(result)
    assert "params.yaml: invalid YAML" in line and "fix params.yaml" in line
    assert records(repo) == []
    assert (repo / "params.yaml").read_text() == "lr: [0.1\n"


def test_params_file_with_python_tag_is_refused(repo: Path) -> None:
    (repo / "params.yaml").write_text("lr: !!python/object/apply:os.system ['touch pwned']\n")
    result = ledger_cli(repo, "run", "--", "true")
    assert result.returncode == 1 and "not allowed" in one_line_error(result)
    assert not (repo / "pwned").exists()


def test_malformed_ledger_yaml(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("commit: sometimes\n")
    result = ledger_cli(repo, "run", "--", "true")
    assert result.returncode == 1 and "`commit` must be auto or off" in one_line_error(result)


def test_bad_override_is_usage_error(repo: Path) -> None:
    result = ledger_cli(repo, "run", "-p", "=3", "--", "true")
    assert result.returncode == 2 and "write -p key=value" in one_line_error(result)


def test_not_a_git_repository(tmp_path: Path) -> None:
    result = ledger_cli(tmp_path, "ls")
    assert result.returncode == 1 and "not a git repository" in one_line_error(result)


def test_traceback_flag_shows_it(tmp_path: Path) -> None:
    result = ledger_cli(tmp_path, "--traceback", "ls")
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_init_creates_and_never_overwrites(tmp_path: Path) -> None:
    result = ledger_cli(tmp_path, "init", "--git", "--dvc", "--experiment", "churn")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".git").is_dir() and (tmp_path / ".dvc" / "config").is_file()
    assert result.stdout.strip() == ("created a git repository, ledger.yaml, params.yaml, experiments/README.md, .dvc/")
    assert "experiment: churn" in (tmp_path / "ledger.yaml").read_text()
    (tmp_path / "params.yaml").write_text("mine: 1\n")
    again = ledger_cli(tmp_path, "init")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert (tmp_path / "params.yaml").read_text() == "mine: 1\n"


LOG_LR_AS_AUC = "import ledger; ledger.log_metric('auc', ledger.params()['lr'])"


def test_ls_show_top_close_the_loop(repo: Path) -> None:
    for lr in ("0.1", "0.3", "0.2"):
        result = ledger_cli(repo, "run", "--name", f"lr{lr}", "-p", f"lr={lr}", "--",
                            sys.executable, "-c", LOG_LR_AS_AUC)  # fmt: skip
        assert result.returncode == 0, result.stderr
    top = ledger_cli(repo, "top", "--metric", "auc", "--format", "json")
    ranked = json.loads(top.stdout)
    assert [r["name"] for r in ranked] == ["lr0.3", "lr0.2", "lr0.1"]
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert set(ranked[0]) == {"rank", "id", "name", "status", "metrics", "params"}
    lowest_first = json.loads(ledger_cli(repo, "top", "--metric", "auc", "--min", "--format", "json").stdout)
    assert [r["name"] for r in lowest_first] == ["lr0.1", "lr0.2", "lr0.3"]
    listing = ledger_cli(repo, "ls", "--format", "csv")
    assert listing.stdout.splitlines()[0] == "id,name,status,started,auc"
    assert len(listing.stdout.splitlines()) == 4
    shown = ledger_cli(repo, "show", "lr0.2")
    assert shown.returncode == 0 and "name: lr0.2" in shown.stdout
    prefix = ranked[0]["id"][:25]
    assert json.loads(ledger_cli(repo, "show", prefix, "--format", "json").stdout)["id"] == ranked[0]["id"]
    missing = ledger_cli(repo, "show", "nope")
    assert missing.returncode == 1 and "no run matches 'nope'" in one_line_error(missing)


def test_a_hostile_record_in_the_worktree_is_skipped_with_a_warning(repo: Path) -> None:
    bad = repo / "experiments/2026-11/20261127-000000-evil-abcdef.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("schema_version: 1\nid: !!python/object/apply:os.system ['touch pwned']\n")
    result = ledger_cli(repo, "ls")
    assert result.returncode == 0
    assert "warning: skipped a bad record" in result.stderr and "evil" in result.stderr
    assert not (repo / "pwned").exists()


def test_control_characters_from_records_never_reach_the_terminal(repo: Path) -> None:
    result = ledger_cli(repo, "run", "--name", "x", "--desc", "\x1b[31mred\x1b[0m", "--", "true")
    assert result.returncode == 0
    shown = ledger_cli(repo, "show", "x")
    assert "\x1b" not in shown.stdout


def test_top_needs_a_metric(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("experiment: x\n")
    git(repo, "commit", "-qam", "no primary")
    result = ledger_cli(repo, "top")
    assert result.returncode == 2 and "pass --metric" in one_line_error(result)


def test_every_command_is_documented_in_the_readme() -> None:
    from support.repo import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in COMMANDS if f"`ledger {name}" not in readme] == []


def test_the_readme_quickstart_has_the_two_commands_ci_and_the_example_use() -> None:
    from support.repo import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["bash example/quickstart.sh", "bash scripts/test.sh"]
    assert (ROOT / "example/quickstart.sh").is_file() and (ROOT / "scripts/test.sh").is_file()
    assert "bash scripts/test.sh" in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_a_bug_exits_3_in_one_line_apart_from_a_refusal(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit's convention: 1 is ledger refusing with advice, 3 is ledger's own bug."""
    import ledger.cli.commands.ls as ls_command

    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(ls_command, "run", broken)
    assert main(["ls"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ledger: internal error: ZeroDivisionError: a bug (rerun with --traceback and report it)"]
    assert main(["show", "no-such-run"]) == 1
