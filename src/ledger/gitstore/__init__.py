"""The one place git is touched (a package: core, commit, read, remote, worktree).

Everything goes through git's own plumbing as subprocesses: it is several times faster than
GitPython's index/commit path and its object streaming (see benchmarks/RESULTS.md), and it
lets ledger commit without touching the user's index or working tree.

Writing: `commit_files` builds a tree from the branch tip plus ledger's files in a private
index, writes a commit and moves the branch with a compare-and-swap `update-ref`; if another
writer moved the branch first, it rebuilds on the new tip. Only then are ledger's own paths
added to the user's index (never anything else), so `git status` stays clean.

Reading: `iter_blobs` / `read_blobs` pull many blobs through one `git cat-file --batch`.
"""

from __future__ import annotations

from ledger.gitstore.commit import (
    commit_files,
    index_tree_without,
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
    git,
    git_dir,
    git_ok,
    head_state,
    init_repository,
    private_index,
    rev_parse,
    text,
    user_identity,
)
from ledger.gitstore.read import (
    LogEntry,
    active_index,
    branch_refs,
    changed_paths,
    grep_paths,
    index_blobs,
    is_ancestor,
    iter_blobs,
    log_entries,
    ls_tree,
    merge_base,
    read_blobs,
    read_file_at,
    show_blob,
    staged_paths,
    untracked_and_modified,
)
from ledger.gitstore.remote import (
    TagInfo,
    create_annotated_tag,
    fetch_branch,
    list_tags,
    push_branch,
)
from ledger.gitstore.worktree import (
    apply_patch,
    owned_worktrees,
    worktree_add,
    worktree_add_branch,
    worktree_remove,
    worktree_unlock,
    write_worktree_file,
)

__all__ = [
    "GitError",
    "HeadState",
    "LogEntry",
    "TagInfo",
    "active_index",
    "apply_patch",
    "branch_refs",
    "changed_paths",
    "commit_files",
    "config_get",
    "create_annotated_tag",
    "fetch_branch",
    "git",
    "common_dir",
    "git_dir",
    "git_ok",
    "grep_paths",
    "head_state",
    "index_blobs",
    "index_tree_without",
    "init_repository",
    "is_ancestor",
    "iter_blobs",
    "read_blobs",
    "list_tags",
    "log_entries",
    "ls_tree",
    "merge_base",
    "private_index",
    "push_branch",
    "read_file_at",
    "replay_commit",
    "rev_parse",
    "show_blob",
    "stage_files",
    "staged_paths",
    "sync_index_entries",
    "text",
    "tree_with",
    "tree_without",
    "untracked_and_modified",
    "update_ref",
    "user_identity",
    "owned_worktrees",
    "worktree_add",
    "worktree_add_branch",
    "worktree_remove",
    "worktree_unlock",
    "write_worktree_file",
]
