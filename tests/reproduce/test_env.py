"""`ledger env ID`: the recorded environment as a requirements file; comparing environments."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pytest

import ledger
from ledger.cli import main
from ledger.core import yamlio
from ledger.reproduce import envfile
from support.repo import git, ledger_cli


def _run() -> dict:
    with ledger.start_run(name="env") as run:
        pass
    assert run.record is not None
    return run.record


def test_env_prints_a_pinned_requirements_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = _run()
    assert main(["env", rec["id"][:12]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"# environment of ledger run {rec['id']} (env {rec['env']['id']})"
    assert lines[1].startswith(f"# python {platform.python_version()} (CPython, ")
    pins = [ln for ln in lines if not ln.startswith("#")]
    assert f"pyyaml=={metadata.version('PyYAML')}" in pins
    names = [ln.split("==")[0] for ln in pins]
    assert names == sorted(names) and all("==" in ln for ln in pins)


def test_env_never_pins_what_no_package_index_serves(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ledger itself (installed from its source, here as an editable install) and anything
    installed from a directory, a VCS or a URL become comments: `pip install -r` must work."""
    rec = _run()
    doc = yamlio.load_file(repo / rec["env"]["file"])
    assert doc["local"]["ledger-ml"] == "editable"  # this test environment's own install
    assert main(["env", rec["id"]]) == 0
    out = capsys.readouterr().out
    pins = [ln for ln in out.splitlines() if not ln.startswith("#")]
    assert not [p for p in pins if p.startswith("ledger-ml==")]
    assert f"#   ledger-ml {metadata.version('ledger-ml')} (installed from an editable install" in out
    doc["local"] = {"numpy": "vcs"}  # an older or another machine's file: ledger is never pinned
    doc["packages"].setdefault("numpy", "2.0.0")
    yamlio.dump_file(repo / rec["env"]["file"], doc)
    git(repo, "commit", "-q", "-am", "another environment file")
    assert main(["env", rec["id"]]) == 0
    out = capsys.readouterr().out
    assert "numpy==" not in out and "(installed from a version-control checkout)" in out
    assert "ledger-ml==" not in out and "#   ledger-ml " in out


def test_env_of_a_hostile_environment_file_keeps_pip_options_out(repo: Path) -> None:
    rec = _run()
    path = repo / rec["env"]["file"]
    doc = yamlio.load_file(path)
    doc["packages"] = {"--index-url http://evil.example": "1", "good": "1.0\n--extra-index-url x",
                       "numpy": "2.0.0"}  # fmt: skip
    yamlio.dump_file(path, doc)
    git(repo, "commit", "-q", "-am", "hostile env")
    proc = ledger_cli(repo, "env", rec["id"])
    assert proc.returncode == 0, proc.stderr
    pins = [ln for ln in proc.stdout.splitlines() if not ln.startswith("#")]
    assert pins == ["numpy==2.0.0"]
    assert "# left out (not a plain name and version): --index-url http://evil.example, good" in proc.stdout


def test_env_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "20990101-000000-none-abcdef"]) == 1
    assert "no run matches" in capsys.readouterr().err
    rec = _run()
    git(repo, "rm", "-q", rec["env"]["file"])
    git(repo, "commit", "-q", "-m", "lose the environment file")
    assert main(["env", rec["id"]]) == 1
    assert "environment file" in capsys.readouterr().err


def test_differences_are_listed_one_per_line() -> None:
    before = envfile.from_document({"python": "3.11.4", "implementation": "CPython", "system": "Linux-x86_64",
                                    "packages": {"numpy": "1.26.0", "pandas": "2.2.0", "same": "1"}})  # fmt: skip
    after = envfile.from_document({"python": "3.11.9", "implementation": "CPython", "system": "Linux-x86_64",
                                   "packages": {"numpy": "2.0.0", "rich": "13.0", "same": "1"}})  # fmt: skip
    assert envfile.differences(before, after) == [
        "python 3.11.4 -> 3.11.9", "numpy 1.26.0 -> 2.0.0", "pandas missing (recorded 2.2.0)",
        "rich 13.0 not recorded",
    ]  # fmt: skip
    assert envfile.differences(before, before) == []
