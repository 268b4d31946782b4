"""Context capture: one small provider per kind of context.

A provider that fails warns and returns nothing; it never breaks the user's run.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ledger.errors import LedgerWarning

P = ParamSpec("P")
T = TypeVar("T")


def catch_and_warn(what: str, default: Any) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a provider so that any exception becomes a LedgerWarning and `default`."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - capture must never break a run
                warnings.warn(
                    f"could not capture {what}: {type(exc).__name__}: {exc}",
                    LedgerWarning,
                    stacklevel=2,
                )
                return default

        return inner

    return wrap
