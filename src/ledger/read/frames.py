"""Tables as pandas DataFrames: the one place pandas (an optional dependency) is imported,
and only when a caller asks for a frame."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas


def data_frame(
    rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None, *, epoch_ms: Iterable[str] = ()
) -> pandas.DataFrame:
    """One row per dict; `epoch_ms` columns (milliseconds since the epoch) become UTC times.
    ImportError when pandas is not installed."""
    import pandas

    frame = pandas.DataFrame(list(rows), columns=list(columns) if columns is not None else None)
    for column in epoch_ms:
        frame[column] = pandas.to_datetime(frame[column], unit="ms", utc=True)
    return frame
