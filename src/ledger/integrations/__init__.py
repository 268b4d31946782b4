"""Integrations with training frameworks that have their own logger or callback API:
`ledger.integrations.lightning.LedgerLogger` and `ledger.integrations.transformers.LedgerCallback`.

Each module imports its framework, so import only the one you use.
"""
