"""Importers: other trackers' history turned into ledger records (`ledger import ...`)."""
