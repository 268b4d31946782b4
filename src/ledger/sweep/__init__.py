"""`ledger sweep`: planning points, running them, and their worktrees."""
