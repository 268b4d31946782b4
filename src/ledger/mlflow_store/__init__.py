"""MLflow's own client over the ledger: a tracking-store and artifact-repository plugin.

    pip install ledger-ml[mlflow]
    MLFLOW_TRACKING_URI=ledger: python train.py        # the repository of the current folder
    MLFLOW_TRACKING_URI=ledger:///path/to/repo python train.py

MLflow finds the store through the `mlflow.tracking_store` entry point (scheme `ledger`)
and the artifacts through `mlflow.artifact_repository`. Every MLflow run becomes a ledger
record, written by ledger's own write path (`tracking.Run`) and read back through the read
path. This package is the one place, besides the tests, that imports MLflow; nothing else
in ledger imports it, so `ledger top` never pays for it.

Modules: `uri` (ledger: URIs), `experiments` (experiment ids <-> names), `live` (runs open
in this process, ended at exit), `convert` (records as MLflow entities), `search`
(search_runs over records), `store` (the AbstractStore), `models` (logged models),
`artifacts` (the artifact repository), `unsupported` (the clear refusals).
"""
