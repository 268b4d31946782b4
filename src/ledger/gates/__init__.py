"""Gates a team puts in front of its history: `ledger check`, the code guard, git hooks
and the CI workflow."""
