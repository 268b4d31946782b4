"""`ledger.integrations.transformers.LedgerCallback`: the Hugging Face Trainer callback (it
lives in `ledger.autolog.transformers_callback`, beside the autolog hook that installs it, so
that autolog never imports this package). Importing it imports transformers."""

from __future__ import annotations

from ledger.autolog.transformers_callback import LedgerCallback

__all__ = ["LedgerCallback"]
