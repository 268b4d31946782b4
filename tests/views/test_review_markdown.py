"""Golden tests of the pull-request comment, and of the escaping that keeps it inert.

The repository is fully deterministic: records are written through ledger's own record and
YAML code with fixed ids and timestamps, and commits get pinned dates, so every commit id
(and so the whole comment) is the same on every machine. Regenerate the golden files with
`LEDGER_UPDATE_GOLDEN=1 pytest tests/test_review_markdown.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.views.review import build as review
from ledger.views.review import markdown as review_markdown
from support.repo import git

GOLDEN = Path(__file__).parent / "golden"


def _record(run_id: str, name: str, minute: int, commit: str, **fields: Any) -> dict[str, Any]:
    return record.canonical({
        "id": run_id, "name": name, "experiment": "churn", "status": "finished",
        "started_at": f"2026-11-27T10:{minute:02d}:00.000Z",
        "ended_at": f"2026-11-27T10:{minute:02d}:30.000Z", "duration_s": 30.0,
        "command": {"argv": ["python", "train.py"], "cwd": "."},
        "code": {"commit": commit, "branch": "main", "dirty": False, "tree": "1" * 40},
        "data": [{"path": "data/train.csv", "hash": "a" * 32, "source": "data/train.csv.dvc"}],
        **fields,
    })  # fmt: skip


def _save(root: Path, rec: dict[str, Any], message: str) -> None:
    path = root / record.record_path(rec["id"])
    yamlio.dump_file(path, rec)
    git(root, "add", "experiments")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def pr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-27T12:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-27T12:00:00Z")
    root = tmp_path / "golden"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: churn\nprimary_metric: auc\n", encoding="utf-8")
    (root / "train.py").write_text("print('train')\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    c0 = git(root, "rev-parse", "HEAD")
    params = {"model": {"type": "rf", "depth": 6}, "lr": 0.1}
    _save(root, _record("20261127-100000-baseline-000001", "baseline", 0, c0, baseline=True,
                        params=params, metrics={"auc": 0.8, "loss": 0.31}), "baseline")  # fmt: skip
    best = _record("20261127-100500-rf-deep-000002", "rf-deep", 5, c0, params=params,
                   metrics={"auc": 0.85, "loss": 0.27, "f1": 0.7})  # fmt: skip
    _save(root, best, "rf-deep")
    git(root, "checkout", "-q", "-b", "feature")
    xgb = {"model": {"type": "xgb", "depth": 8}, "lr": 0.05}
    _save(root, _record("20261127-101000-xgb-000003", "xgb", 10, c0, params=xgb,
                        description="gradient boosting | *deeper* trees",
                        metrics={"auc": 0.9, "loss": 0.22, "f1": 0.74}), "xgb")  # fmt: skip
    _save(root, _record("20261127-101500-linear-000004", "linear", 15, c0,
                        params={**params, "model": {"type": "linear"}},
                        metrics={"auc": 0.72, "loss": 0.4}), "linear")  # fmt: skip
    _save(root, _record("20261127-102000-xgb-big-000005", "xgb-big", 20, "f" * 40, status="failed",
                        params=xgb, error={"type": "MemoryError", "message": "out of memory at step 3"}),
          "failed")  # fmt: skip
    _save(root, {**best, "notes": "re-checked on the holdout set"}, "annotate rf-deep")
    return root


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LEDGER_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_golden_pull_request_comment(pr: Path) -> None:
    rv = review.review(Workspace(pr), "main", "feature")
    text = review_markdown.render(rv)
    assert review_markdown.render(review.review(Workspace(pr), "main", "feature")) == text  # stable
    _golden("review_basic.md", text)


def test_golden_regression_comment(pr: Path) -> None:
    rv = review.review(Workspace(pr), "main", "feature", threshold=0.95)
    assert rv.regression
    _golden("review_regression.md", review_markdown.render(rv))


def test_golden_nothing_to_review(pr: Path) -> None:
    rv = review.review(Workspace(pr), "main", "main")
    assert rv.entries == () and not rv.regression
    _golden("review_empty.md", review_markdown.render(rv))


@pytest.mark.parametrize(
    ("hostile", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<!-- ledger-diff -->", "<!--"),
        ("a | b", "a | b"),
        ("[x](https://evil.example)", "https://"),
        ("**bold** _it_ `code`", "**bold**"),
        ("@octocat", "@octocat"),
        ("line\n# heading", "\n"),
        ("</details><details open>", "</details>"),
        ("\x1b[31mred\u202e", "\x1b"),
    ],
)
def test_escape_neutralises_record_text(hostile: str, forbidden: str) -> None:
    escaped = review_markdown.escape(hostile)
    assert forbidden not in escaped and "\n" not in escaped
    # Inside HTML (a <summary>) markdown is inert; tags, mentions and links are not.
    in_html = review_markdown.escape_html(hostile)
    for bad in ("<", "\n", "\x1b", "\u202e", "@octocat", "https://"):
        assert bad not in in_html


def test_escape_keeps_ordinary_names_readable() -> None:
    assert review_markdown.escape("xgb-deeper-v2 0.93") == "xgb-deeper-v2 0.93"
    assert review_markdown.escape("a" * 500, limit=10) == "a" * 9 + "…"


def test_min_metric_removed_records_and_tolerance(pr: Path) -> None:
    ws = Workspace(pr)
    rv = review.review(ws, "main", "feature", metric="loss")  # a loss: lower is better
    assert rv.direction == "min" and rv.best_on_base is not None
    assert rv.best_on_base["name"] == "rf-deep"
    verdicts = {e.record["name"]: e.verdict for e in rv.entries}
    assert verdicts == {"rf-deep": "equal", "xgb": "better", "linear": "worse", "xgb-big": "failed"}
    assert rv.best_new is not None and rv.best_new.record["name"] == "xgb" and not rv.regression
    assert review.review(ws, "main", "feature", metric="loss", threshold=0.2).regression
    assert not review.review(ws, "main", "feature", metric="loss", threshold=0.2, tolerance=0.05).regression
    git(pr, "rm", "-q", record.record_path("20261127-100000-baseline-000001"))
    git(pr, "commit", "-q", "-m", "drop the baseline record")
    rv = review.review(ws, "main", "feature")
    assert rv.removed == ("20261127-100000-baseline-000001",)
    assert "record removed on this branch: `20261127-100000-baseline-000001`" in review_markdown.render(rv)
