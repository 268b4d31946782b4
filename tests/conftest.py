"""Shared fixtures: every test gets an isolated HOME, no system git config, a pinned git
identity, and (on request) a real git repository set up as a ledger workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.write import tracking
from ledger.write.capture import hardware
from support.repo import git


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    for name in (tracking.ENV_RUN_ID, tracking.ENV_RUN_DIR, tracking.ENV_ROOT):
        monkeypatch.delenv(name, raising=False)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    yield
    # A test that left a run open must not leak it into the next test.
    tracking._active.clear()
    tracking._attached.clear()
    hardware.capture_hardware.cache_clear()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit, ledger.yaml and params.yaml, as the cwd."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "params.yaml").write_text("lr: 0.1\nseed: 7\nmodel:\n  depth: 3\n", encoding="utf-8")
    (root / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\n", encoding="utf-8")
    (root / "train.py").write_text("print('training')\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    monkeypatch.chdir(root)
    return root
