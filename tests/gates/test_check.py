"""`ledger check`: every safety rule, each source (paths, the staged index, a revision)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.cli import main
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.gates import check
from support.repo import git, records

RUN_ID = "20261127-100000-probe-abcdef"
PATH = record.record_path(RUN_ID)


def valid(**fields: Any) -> dict[str, Any]:
    return record.canonical({
        "id": RUN_ID, "name": "probe", "experiment": "tests", "status": "finished",
        "started_at": "2026-11-27T10:00:00.000Z", "params": {"lr": 0.1}, "metrics": {"auc": 0.9},
        **fields,
    })  # fmt: skip


def problems_of(root: Path, content: str | dict[str, Any], path: str = PATH) -> list[check.Problem]:
    text = yamlio.dumps(content) if isinstance(content, dict) else content
    return check.check_blob(text.encode(), path, root)


def test_a_record_written_by_ledger_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ledger.start_run(name="real") as run:
        run.log_params({"db_password": "hunter2", "lr": 0.1})
        run.log_metric("auc", 0.9)
    assert records(repo)
    assert main(["check"]) == 0
    assert "no problems" in capsys.readouterr().err
    assert main(["check", "--rev", "HEAD"]) == 0


@pytest.mark.parametrize(
    ("content", "pointer", "words"),
    [
        ("a: &x 1\nb: *x\n", "", "aliases"),
        ("id: !!python/object/apply:os.system ['true']\n", "", "tag"),
        ("name: a\nname: b\n", "", "duplicate key"),
        ("params: " + "{a: " * 40 + "1" + "}" * 40 + "\n", "", "deeper"),
        ("[1, 2]\n", "", "mapping"),
        ("id: [unclosed\n", "", "invalid YAML"),
    ],
)
def test_unsafe_yaml_is_one_problem(repo: Path, content: str, pointer: str, words: str) -> None:
    [problem] = problems_of(repo, content)
    assert (problem.path, problem.pointer) == (PATH, pointer)
    assert words in problem.message


@pytest.mark.parametrize(
    ("fields", "pointer", "words"),
    [
        ({"artifacts": [{"name": "m", "path": "../m.pkl", "hash": "0", "kind": "model", "store": "git"}]},
         "/artifacts/0/path", "inside the repository"),
        ({"data": [{"path": "/etc/passwd"}]}, "/data/0/path", "inside the repository"),
        ({"data": [{"path": ".git/config"}]}, "/data/0/path", ".git"),
        ({"code": {"commit": "a" * 40, "dirty": True, "patch": "src/model.py"}}, "/code/patch",
         "must be inside experiments/2026-11/" + RUN_ID),
        ({"series": {"path": "experiments/2026-11/other/series.tsv", "metrics": {}}}, "/series/path",
         "must be inside"),
        ({"env": {"file": "../envs/x.yaml"}}, "/env/file", "inside the repository"),
        ({"command": {"argv": ["python"], "cwd": "../.."}}, "/command/cwd", "inside the repository"),
        ({"params": {"api_key": "abc123"}}, "/params/api_key", "secret"),
        ({"tags": {"auth-token": "xyz"}}, "/tags/auth-token", "secret"),
        ({"notes": "key AKIAABCDEFGHIJKLMNOP leaked"}, "/notes", "credential"),
        ({"code": {"remote": "https://bob:s3cret@git.example/x.git"}}, "/code/remote", "credential"),
        ({"status": "exploded"}, "/status", "is not one of"),
        ({"metrics": {"auc": "high"}}, "/metrics/auc", "is not of type"),
    ],
)  # fmt: skip
def test_record_rules_name_the_field(repo: Path, fields: dict[str, Any], pointer: str, words: str) -> None:
    found = problems_of(repo, valid(**fields))
    assert [p.pointer for p in found] == [pointer], found
    assert words in found[0].message
    assert str(found[0]).startswith(f"{PATH}: {pointer}: ")


def test_redacted_values_and_harmless_names_pass(repo: Path) -> None:
    rec = valid(params={"password": "<redacted>", "max_tokens": 512, "author": "me"},
                code={"remote": "https://git.example/x.git"})  # fmt: skip
    assert problems_of(repo, rec) == []


def test_id_must_match_the_file_name_and_files_must_be_named_like_records(repo: Path) -> None:
    [problem] = problems_of(repo, valid(), path=record.record_path("20261127-100000-other-123456"))
    assert problem.pointer == "/id" and "does not match" in problem.message
    [stray] = problems_of(repo, valid(), path="experiments/2026-11/notes.yaml")
    assert "not a record file name" in stray.message


def test_newer_schema_says_upgrade(repo: Path) -> None:
    [problem] = problems_of(repo, {**valid(), "schema_version": 9})
    assert "upgrade ledger" in problem.message


def test_oversize_file(repo: Path) -> None:
    [problem] = problems_of(repo, valid(notes="x" * (yamlio.MAX_BYTES + 10)))
    assert "larger than" in problem.message


def test_staged_reads_the_index_not_the_working_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / PATH
    path.parent.mkdir(parents=True)
    path.write_text(yamlio.dumps(valid(status="exploded")), encoding="utf-8")
    git(repo, "add", PATH)
    assert main(["check", "--staged"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{PATH}: /status: 'exploded' is not one of "
                   "['running', 'finished', 'failed', 'killed', 'crashed', 'pruned']"]  # fmt: skip
    # Fixed in the working tree but not staged: the commit would still carry the bad one.
    path.write_text(yamlio.dumps(valid()), encoding="utf-8")
    assert main(["check", "--staged"]) == 1
    git(repo, "add", PATH)
    assert main(["check", "--staged"]) == 0
    # A staged deletion is nothing to check.
    git(repo, "commit", "-q", "-m", "record")
    git(repo, "rm", "-q", PATH)
    assert check.check_staged(Workspace(repo)).checked == 0


def test_rev_range_checks_only_what_the_range_adds(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / PATH
    path.parent.mkdir(parents=True)
    path.write_text("name: a\nname: b\n", encoding="utf-8")
    git(repo, "add", PATH)
    git(repo, "commit", "-q", "-m", "bad record on main")
    git(repo, "checkout", "-q", "-b", "topic")
    good = "20261127-110000-good-123456"
    (repo / record.record_path(good)).write_text(yamlio.dumps({**valid(), "id": good}), encoding="utf-8")
    git(repo, "add", "experiments")
    git(repo, "commit", "-q", "-m", "good record on topic")
    assert main(["check", "--rev", "main..topic"]) == 0  # main's bad record is not the topic's
    assert main(["check", "--rev", "topic"]) == 1  # the whole tree at topic
    assert f"topic:{PATH}: /: duplicate key 'name'" in capsys.readouterr().out
    assert main(["check", "--rev", "nope..topic"]) == 2


def test_paths_mode_and_usage_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / PATH
    path.parent.mkdir(parents=True)
    path.write_text(yamlio.dumps(valid(params={"token": "abc"})), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert f"{PATH}: /params/token:" in capsys.readouterr().out
    assert main(["check", "experiments"]) == 1
    assert main(["check", "train.py"]) == 1
    assert "not a ledger file" in capsys.readouterr().out
    assert main(["check", "missing.yaml"]) == 2
    assert main(["check", "--staged", str(path)]) == 2


def test_nothing_to_check_is_fine(repo: Path) -> None:
    assert main(["check"]) == 0
    assert main(["check", "--staged"]) == 0
