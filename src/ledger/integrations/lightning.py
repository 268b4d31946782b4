"""`ledger.integrations.lightning.LedgerLogger`: the PyTorch Lightning logger (it lives in
`ledger.autolog.lightning_logger`, beside the autolog hook that installs it, so that autolog
never imports this package). Importing it imports Lightning."""

from __future__ import annotations

from ledger.autolog.lightning_logger import LedgerLogger

__all__ = ["LedgerLogger"]
