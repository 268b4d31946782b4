"""Secrets as a corpus: every shape x every placement, through real runs, into no git object.

One `ledger run` (params file, -p overrides, tags, description, argv, allowlisted
environment variables, the child's logged params, notes and traceback, untracked
YAML/JSON/.env files and a dirty script in the code patch, a remote with a token), one
`ledger sweep`, API runs named with secrets and logging artifacts named with them, and one
`ledger import mlflow` of a real MLflow store. Then every git object
(`git cat-file --batch-all-objects`) and every file under experiments/ is searched for the
random part of every secret.
"""

from __future__ import annotations

import pytest

from support.secret_corpus import ALL_SHAPES, HARMLESS, KEY_NAMES
from support.secret_harness import KEY_PLACEMENTS, SHAPE_PLACEMENTS, Outcome, run_corpus


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return run_corpus(tmp_path_factory.mktemp("corpus"))


def test_the_corpus_is_as_large_as_promised(outcome: Outcome) -> None:
    assert len(ALL_SHAPES) >= 50 and len(HARMLESS) >= 25 and len(KEY_NAMES) >= 30
    assert {p for _, p in outcome.shape_cells} == set(SHAPE_PLACEMENTS)
    assert {p for _, p in outcome.key_cells} == set(KEY_PLACEMENTS)
    # Only names with newlines or over 200 characters (PEM keys) cannot be names or files.
    assert all(p in ("name", "artifact-name") for _, p in outcome.not_applicable)
    assert outcome.runs >= 5


def test_no_secret_of_any_shape_reaches_git_or_experiments(outcome: Outcome) -> None:
    assert outcome.leaked_shapes == []


def test_no_value_under_a_secret_key_reaches_git_or_experiments(outcome: Outcome) -> None:
    assert outcome.leaked_keys == []


def test_the_remote_token_is_not_recorded(outcome: Outcome) -> None:
    assert not outcome.remote_leaked


def test_harmless_look_alike_params_come_through_unchanged(outcome: Outcome) -> None:
    assert outcome.harmless_changed == {}
