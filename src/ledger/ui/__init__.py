"""`ledger ui`: a local, read-only web app over the repository's history.

Starlette serves a few HTML shells, our own static JavaScript and CSS, Plotly's bundle from
the installed `plotly` package, and a JSON API. Every answer is read through the library
read path (`ledger.runs()`); nothing here writes to the repository. Imported only by
`ledger ui` (the web stack is the `ui` extra), never by `ledger top`.
"""
