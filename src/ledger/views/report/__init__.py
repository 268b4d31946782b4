"""`ledger report`: the client report as self-contained HTML or Markdown."""
