"""`ledger diff`: the pull-request review of the runs a branch adds."""
