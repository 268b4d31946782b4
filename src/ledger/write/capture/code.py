"""The code state: HEAD commit, branch, dirty flag, the exact patch and a code fingerprint.

The patch is what turns HEAD into the working tree: every change to tracked files plus
untracked source files (by extension, up to 1 MiB each). It is built in a private index, so
the user's index is never touched, and the same private index gives `tree`: the git tree
id of the code as it ran, with ledger's own files left out. Two runs on the same code have
the same `tree` even when ledger's record commits lie between them.

A changed or untracked file holding a secret (an API key in a `.env`, a password in a
config file) goes into that index redacted: its raw content is never written to git's
object database, so neither the patch nor any loose object carries the secret.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ledger import gitstore
from ledger.core.record import RECORDS_DIR
from ledger.core.redact import portable_remote, redact_file, strip_url_credentials

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
    redacted: tuple[str, ...] = ()  # files that went into `patch`/`tree` with secrets redacted

    @property
    def patch_hash(self) -> str | None:
        return hashlib.sha256(self.patch).hexdigest() if self.patch else None


def _untracked_sources(root: Path, extra_extensions: tuple[str, ...], env: dict[str, str]) -> list[str]:
    allowed = SOURCE_EXTENSIONS | set(extra_extensions)
    chosen = []
    for path in gitstore.untracked_files(root, env):
        if not path or path.split("/")[0] in LEDGER_PATHS or path.startswith(".dvc/"):
            continue
        if os.path.splitext(path)[1] in allowed:
            try:
                if (root / path).stat().st_size <= MAX_UNTRACKED_BYTES:
                    chosen.append(path)
            except OSError:
                continue
    return chosen


def _with_secrets(root: Path, paths: list[str], secrets: tuple[str, ...]) -> dict[str, bytes]:
    """The redacted content of each of `paths` that holds a secret."""
    found = {}
    for path in paths:
        try:
            data = (root / path).read_bytes() if (root / path).is_file() else None
        except OSError:
            continue
        if data is not None:
            redacted = redact_file(path, data, secrets)
            if redacted is not data:
                found[path] = redacted
    return found


def _stage_redacted(root: Path, files: dict[str, bytes], env: dict[str, str]) -> None:
    contents = {path: (data, os.access(root / path, os.X_OK)) for path, data in files.items()}
    gitstore.stage_contents(root, contents, env)


def capture_code(root: Path, extra_extensions: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> CodeState:
    """The code state; `secrets` are the project's extra secret patterns."""
    state = gitstore.head_state(root)
    remote = _remote_url(root, state.branch, secrets)
    # A private copy of the user's index: its stat cache spares re-hashing unchanged files,
    # and the user's own index is never touched.
    with gitstore.private_index(copy_of=gitstore.git_dir(root) / "index") as env:
        tracked = gitstore.modified_files(root, env)
        untracked = _untracked_sources(root, extra_extensions, env)
        secret = _with_secrets(root, [*tracked, *untracked], secrets)
        gitstore.stage_tracked(root, env, leave_out=secret)
        gitstore.stage_paths(root, [p for p in untracked if p not in secret], env)
        if secret:
            _stage_redacted(root, secret, env)
        # ledger's own files are left out of the code's identity (dropped from the top-level
        # tree: `git rm --cached` would be quadratic in the number of records).
        tree = gitstore.tree_without(root, gitstore.write_tree(root, env), LEDGER_PATHS)
        patch = gitstore.staged_patch(root, state.commit, LEDGER_PATHS, env)
    return CodeState(
        commit=state.commit,
        branch=state.branch,
        dirty=bool(patch) or state.commit is None,
        patch=patch,
        tree=tree,
        remote=remote,
        redacted=tuple(sorted(secret)),
    )


def _remote_url(root: Path, branch: str | None, secrets: tuple[str, ...]) -> str | None:
    name = gitstore.config_get(root, f"branch.{branch}.remote") if branch else None
    url = gitstore.config_get(root, f"remote.{name or 'origin'}.url")
    return portable_remote(strip_url_credentials(url, secrets), root) if url else None
