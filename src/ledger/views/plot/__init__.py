"""`ledger plot`: charts from records and series (matplotlib only in `charts`)."""
