"""Why a run under review could not be reproduced from its record alone: no code state,
dirty code without its patch, a code commit HEAD's history lacks, data without a DVC hash."""

from __future__ import annotations

from typing import Any

from ledger import gitstore
from ledger.core import record
from ledger.core.workspace import Workspace

_COMMIT_RE_LEN = (40, 64)


class Reproducibility:
    """The warnings of each of the branch's runs, asking git once for all of them: which of
    their code patches the branch has (only record sidecars count), and which of their
    code commits the repository has at all."""

    def __init__(self, ws: Workspace, records: list[dict[str, Any]], head_commit: str):
        self.ws = ws
        self.head = head_commit
        codes = [r["code"] for r in records if isinstance(r.get("code"), dict)]
        patches = {str(code["patch"]) for code in codes if code.get("patch")}
        inside = sorted(p for p in patches if p.startswith(record.RECORDS_DIR + "/"))
        self.files = {p for p, _ in gitstore.ls_tree_paths(ws.root, head_commit, inside)}
        # Code commits the repository does not have are not in HEAD's history: one lookup
        # for all of them instead of one `merge-base --is-ancestor` each.
        commits = {str(code["commit"]) for code in codes if code.get("commit")}
        present = gitstore.existing_objects(ws.root, sorted(c for c in commits if len(c) in _COMMIT_RE_LEN))
        self.known: dict[str, bool] = {c: False for c in commits if c not in present}

    def warnings(self, rec: dict[str, Any]) -> list[str]:
        return reproducibility_warnings(self.ws, rec, self.head, self.files, self.known)


def reproducibility_warnings(
    ws: Workspace, rec: dict[str, Any], head: str, files: set[str], known: dict[str, bool]
) -> list[str]:
    """Why a run could not be reproduced from its record alone (empty when it can)."""
    found = []
    code = rec.get("code")
    if not isinstance(code, dict):
        found.append("no code state recorded")
    else:
        commit = code.get("commit")
        patch = code.get("patch")
        if code.get("dirty") and not patch:
            found.append("dirty code without a patch")
        elif patch and patch not in files:
            found.append(f"its code patch {patch} is not in the branch")
        if not commit:
            found.append("no code commit recorded")
        else:
            if commit not in known:
                ok = len(commit) in _COMMIT_RE_LEN and all(c in "0123456789abcdef" for c in commit)
                known[commit] = ok and gitstore.is_ancestor(ws.root, commit, head)
            if not known[commit]:
                found.append(f"code commit {commit[:8]} is not in HEAD's history")
    for item in rec.get("data") or []:
        if isinstance(item, dict) and not item.get("hash"):
            found.append(f"data {item.get('path')} has no DVC hash")
    if rec.get("status") == "running":
        found.append("still running: no final result yet")
    return found
