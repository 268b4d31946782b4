"""The code state: HEAD commit, branch, dirty flag, the exact patch and a code fingerprint.

The patch is what turns HEAD into the working tree: every change to tracked files plus
untracked source files (by extension, up to 1 MiB each). It is built in a private index, so
the user's index is never touched, and the same private index gives `tree`: the git tree
id of the code as it ran, with ledger's own files left out. Two runs on the same code have
the same `tree` even when ledger's record commits lie between them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ledger import gitstore
from ledger.core.record import RECORDS_DIR
from ledger.core.redact import strip_url_credentials

SOURCE_EXTENSIONS = frozenset(
    ".py .pyx .pxd .pyi .ipynb .r .R .jl .sh .bash .sql .scala .java .kt .c .cc .cpp .h .hpp "
    ".cu .rs .go .js .ts .yaml .yml .toml .cfg .ini .json .jsonnet .proto".split()
)
MAX_UNTRACKED_BYTES = 1024 * 1024
# Paths that are ledger's own and never part of "the code".
LEDGER_PATHS = (RECORDS_DIR,)


@dataclass(frozen=True)
class CodeState:
    commit: str | None
    branch: str | None
    dirty: bool
    patch: bytes
    tree: str | None
    remote: str | None

    @property
    def patch_hash(self) -> str | None:
        return hashlib.sha256(self.patch).hexdigest() if self.patch else None


def _untracked_sources(root: Path, extra_extensions: tuple[str, ...], env: dict[str, str]) -> list[str]:
    allowed = SOURCE_EXTENSIONS | set(extra_extensions)
    out = gitstore.git(root, "ls-files", "-z", "--others", "--exclude-standard", env=env)
    chosen = []
    for path in out.decode("utf-8", "replace").split("\0"):
        if not path or path.split("/")[0] in LEDGER_PATHS or path.startswith(".dvc/"):
            continue
        if os.path.splitext(path)[1] in allowed:
            try:
                if (root / path).stat().st_size <= MAX_UNTRACKED_BYTES:
                    chosen.append(path)
            except OSError:
                continue
    return chosen


def capture_code(root: Path, extra_extensions: tuple[str, ...] = ()) -> CodeState:
    state = gitstore.head_state(root)
    remote = _remote_url(root, state.branch)
    # A private copy of the user's index: its stat cache spares re-hashing unchanged files,
    # and the user's own index is never touched.
    with gitstore.private_index(copy_of=gitstore.git_dir(root) / "index") as env:
        gitstore.git(root, "add", "-u", "--", ".", env=env, check=False)
        untracked = _untracked_sources(root, extra_extensions, env)
        if untracked:
            gitstore.git(root, "add", "-f", "--", *untracked, env=env)
        # ledger's own files are left out of the code's identity (dropped from the top-level
        # tree: `git rm --cached` would be quadratic in the number of records).
        tree = gitstore.tree_without(root, gitstore.text(root, "write-tree", env=env), LEDGER_PATHS)
        against = [state.commit] if state.commit else []  # an unborn branch: everything is new
        patch = gitstore.git(
            root, "diff", "--cached", "--binary", "--no-ext-diff", "--no-textconv", "--no-color",
            "--full-index", *against, "--", ".", *[f":(exclude){p}" for p in LEDGER_PATHS], env=env,
        )  # fmt: skip
    return CodeState(
        commit=state.commit,
        branch=state.branch,
        dirty=bool(patch) or state.commit is None,
        patch=patch,
        tree=tree,
        remote=remote,
    )


def _remote_url(root: Path, branch: str | None) -> str | None:
    name = gitstore.config_get(root, f"branch.{branch}.remote") if branch else None
    url = gitstore.config_get(root, f"remote.{name or 'origin'}.url")
    return strip_url_credentials(url) if url else None
