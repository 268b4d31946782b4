"""The one place git is touched (a package: core, commit, read, remote, worktree).

Everything goes through git's own plumbing as subprocesses: it is several times faster than
GitPython's index/commit path and its object streaming (see benchmarks/RESULTS.md), and it
lets ledger commit without touching the user's index or working tree.

Writing: `commit_files` queues a request; whichever writer holds the commit lock commits
every waiting request (one commit per run, chained on the branch tip, `groupcommit`) and
moves the branch with one compare-and-swap `update-ref`, while it holds git's own lock on
the index of every worktree on that branch and writes ledger's paths into them
(`indexsync`): the branch and the user's index never disagree, so `git status` stays clean
and no later `git commit` can delete a record.

Every git call runs with hooks, fsmonitor, content filters and diff/merge drivers off
(`core.command`): nothing of the repository's runs because ledger ran git.

Reading: `iter_blobs` / `read_blobs` pull many blobs through one `git cat-file --batch`.

The git runner (`core._git`) is private to this package: every other module asks for a
named operation (`ls_tree`, `merge_base`, `commit_time`, `changed_files`, ...), so what
ledger does with git can be read here, and tests/test_architecture.py keeps it so.
"""

from __future__ import annotations

from ledger.gitstore.commit import (
    advance_branch,
    commit_files,
    index_tree_without,
    repair_index,
    replay_commit,
    stage_files,
    sync_index_entries,
    tree_with,
    tree_without,
    update_ref,
)
from ledger.gitstore.core import (
    GitError,
    HeadState,
    common_dir,
    config_get,
    git_dir,
    head_state,
    hooks_dir,
    init_repository,
    private_index,
    rev_parse,
    user_identity,
)
from ledger.gitstore.groupcommit import Served, serve_orphaned
from ledger.gitstore.history import (
    author_ident,
    branch_tips,
    changed_files,
    commit_time,
    deleted_files,
    trailer_values,
    tree_changes,
    tree_id,
    upstream,
)
from ledger.gitstore.read import (
    LogEntry,
    active_index,
    branch_refs,
    changed_paths,
    code_diff,
    existing_objects,
    grep_paths,
    index_blobs,
    is_ancestor,
    iter_blobs,
    log_entries,
    ls_tree,
    ls_tree_paths,
    merge_base,
    read_blobs,
    read_file_at,
    ref_tips,
    show_blob,
    staged_paths,
    start_untracked_and_modified,
    untracked_and_modified,
)
from ledger.gitstore.remote import (
    TagInfo,
    clone_at,
    create_annotated_tag,
    fetch_branch,
    list_tags,
    push_branch,
    remote_url,
)
from ledger.gitstore.snapshot import (
    ls_files,
    modified_files,
    stage_contents,
    stage_paths,
    stage_tracked,
    staged_patch,
    untracked_files,
    write_tree,
)
from ledger.gitstore.worktree import (
    apply_patch,
    remove_orphaned_temporary,
    temporary_worktree_add,
    temporary_worktree_keep,
    temporary_worktree_remove,
    worktree_add,
    worktree_add_branch,
    write_worktree_file,
)

__all__ = [
    "tree_changes",
    "tree_id",
    "author_ident",
    "branch_tips",
    "changed_files",
    "commit_time",
    "deleted_files",
    "trailer_values",
    "upstream",
    "ls_files",
    "modified_files",
    "stage_contents",
    "stage_paths",
    "stage_tracked",
    "staged_patch",
    "untracked_files",
    "write_tree",
    "advance_branch",
    "GitError",
    "HeadState",
    "LogEntry",
    "TagInfo",
    "active_index",
    "apply_patch",
    "branch_refs",
    "changed_paths",
    "clone_at",
    "code_diff",
    "commit_files",
    "config_get",
    "create_annotated_tag",
    "fetch_branch",
    "common_dir",
    "git_dir",
    "grep_paths",
    "head_state",
    "hooks_dir",
    "index_blobs",
    "index_tree_without",
    "init_repository",
    "is_ancestor",
    "iter_blobs",
    "read_blobs",
    "list_tags",
    "log_entries",
    "existing_objects",
    "ls_tree",
    "ls_tree_paths",
    "merge_base",
    "private_index",
    "push_branch",
    "remote_url",
    "read_file_at",
    "ref_tips",
    "repair_index",
    "replay_commit",
    "rev_parse",
    "show_blob",
    "stage_files",
    "staged_paths",
    "sync_index_entries",
    "tree_with",
    "tree_without",
    "start_untracked_and_modified",
    "untracked_and_modified",
    "update_ref",
    "user_identity",
    "remove_orphaned_temporary",
    "Served",
    "serve_orphaned",
    "temporary_worktree_add",
    "temporary_worktree_keep",
    "temporary_worktree_remove",
    "worktree_add",
    "worktree_add_branch",
    "write_worktree_file",
]
