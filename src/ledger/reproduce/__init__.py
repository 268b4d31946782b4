"""`ledger reproduce` and `ledger env`: rerunning a recorded run and judging the result."""
