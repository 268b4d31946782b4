"""ledger.yaml: read with the full YAML parser (it is written by hand), yet a warm `ledger top`
does not import PyYAML: the parse is remembered under the git directory's ledger-cache,
keyed by the file's bytes and the parser, and any change to either parses again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.core import config, yamlio
from ledger.errors import ConfigError
from support.query_helpers import commit, make, rid
from support.repo import git

HAND_WRITTEN = """\
# the project's settings, by hand
experiment: churn          # grouping name
primary_metric: auc
metrics: {auc: min, val/loss: min}   # flow style
cost:
  currency: EUR
  cpu_hour: 0.5
secrets: ['tok_[a-z]+']
commit: off                # YAML 1.1: a bare off is false
"""

TOP = (
    "import json, sys; from ledger.cli import main; code = main(['top', '--format', 'json']);"
    "print(json.dumps({'code': code, 'yaml': sorted(m for m in sys.modules if m.split('.')[0] == 'yaml')}))"
)


def top(root: Path) -> tuple[list[str], list[str]]:
    """(ids `ledger top` ranks, in order; the PyYAML modules that process imported)."""
    done = subprocess.run([sys.executable, "-c", TOP], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *shown, last = done.stdout.strip().splitlines()
    status = json.loads(last)
    assert status["code"] == 0
    return [row["id"] for row in json.loads("\n".join(shown))], status["yaml"]


def test_a_warm_top_imports_no_yaml_and_sees_each_change_of_ledger_yaml(repo: Path) -> None:
    (repo / "ledger.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    commit(repo, make(1, auc=0.7), make(2, auc=0.9), make(3, auc=0.8))
    ranked, imported = top(repo)  # cold: records and ledger.yaml are parsed
    assert ranked == [rid(1), rid(3), rid(2)]  # `auc: min` from the flow mapping
    assert imported  # the real parser read ledger.yaml (and the records)
    ranked, imported = top(repo)
    assert ranked == [rid(1), rid(3), rid(2)] and imported == []  # warm: no PyYAML at all
    memo = json.loads((repo / ".git" / config.MEMO_FILE).read_text(encoding="utf-8"))
    [remembered] = memo["entries"].values()
    assert remembered == yamlio.loads(HAND_WRITTEN) and remembered["commit"] is False

    (repo / "ledger.yaml").write_text(HAND_WRITTEN.replace("{auc: min,", "{auc: max,"), encoding="utf-8")
    ranked, imported = top(repo)
    assert ranked == [rid(2), rid(3), rid(1)] and imported  # the change is seen: parsed again
    assert top(repo) == ([rid(2), rid(3), rid(1)], [])
    (repo / "ledger.yaml").write_text(HAND_WRITTEN, encoding="utf-8")  # back: remembered still
    assert top(repo) == ([rid(1), rid(3), rid(2)], [])


def test_the_memo_gives_what_the_parser_gives(repo: Path) -> None:
    (repo / "ledger.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    fresh = config.parse(yamlio.loads(HAND_WRITTEN))
    first, again = config.load(repo), config.load(repo)
    assert first == fresh == again and first.raw == again.raw == fresh.raw
    assert (again.experiment, again.currency, again.cpu_hour, again.commit) == ("churn", "EUR", 0.5, "off")


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources yamlio parses from now on."""
    seen: list[str] = []
    real = yamlio.loads

    def counting(text: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("source", ""))
        return real(text, **kwargs)

    monkeypatch.setattr(yamlio, "loads", counting)
    return seen


def test_a_new_parser_parses_again(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = parses(monkeypatch)
    config.load(repo)
    config.load(repo)
    assert seen == ["ledger.yaml"]
    monkeypatch.setattr(yamlio, "PARSER_VERSION", yamlio.PARSER_VERSION + 1)
    config.load(repo)
    assert seen == ["ledger.yaml", "ledger.yaml"]


def test_what_json_cannot_hold_is_never_remembered(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`1:` as a key would come back as "1" from JSON: such a file is parsed every time."""
    (repo / "ledger.yaml").write_text("experiment: x\nmetrics: {1: max}\nextra: {2: .nan}\n", encoding="utf-8")
    seen = parses(monkeypatch)
    first, again = config.load(repo), config.load(repo)
    assert first.raw == again.raw and 1 in again.raw["metrics"] and seen == ["ledger.yaml", "ledger.yaml"]


def test_a_damaged_memo_is_replaced_and_errors_stay_errors(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = repo / ".git" / config.MEMO_FILE
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text('{"format": 1, "entries": {"torn', encoding="utf-8")
    assert config.load(repo).primary_metric == "auc"
    assert json.loads(memo.read_text(encoding="utf-8"))["format"] == config.MEMO_FORMAT
    (repo / "ledger.yaml").write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    for _ in range(2):  # a refused file is refused every time, never remembered as fine
        with pytest.raises(ConfigError, match="aliases"):
            config.load(repo)
    (repo / "ledger.yaml").unlink()
    assert config.load(repo) == config.Config()


def test_the_memo_keeps_a_few_versions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(config.MEMO_ENTRIES + 3):
        (repo / "ledger.yaml").write_text(f"experiment: e{n}\n", encoding="utf-8")
        assert config.load(repo).experiment == f"e{n}"
    entries = json.loads((repo / ".git" / config.MEMO_FILE).read_text(encoding="utf-8"))["entries"]
    assert len(entries) == config.MEMO_ENTRIES and list(entries.values())[-1] == {"experiment": f"e{n}"}


def test_a_linked_worktree_keeps_its_memo_in_its_own_git_directory(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", str(other))
    (other / "ledger.yaml").write_text("experiment: linked\n", encoding="utf-8")
    assert config.load(other).experiment == "linked"
    gitdir = Path(git(other, "rev-parse", "--absolute-git-dir"))
    assert (gitdir / config.MEMO_FILE).is_file() and gitdir != repo / ".git"
    assert config.load(other).experiment == "linked"


def test_from_bytes_names_its_source(repo: Path) -> None:
    with pytest.raises(ConfigError, match="abc12345:ledger.yaml: `commit` must be auto or off"):
        config.from_bytes(b"commit: sometimes\n", "abc12345:ledger.yaml", repo)
    assert config.from_bytes(b"primary_metric: f1\n", "x", None).primary_metric == "f1"
