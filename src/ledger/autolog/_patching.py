"""Shared machinery for autologging: reversible patches, post-import hooks, a guard against
nested logging, the run a training call logs into, and capture that never breaks training.

Every patch remembers what it replaced, so `autolog(disable=True)` puts each class and
module back exactly as it was. Frameworks that are not imported yet are patched the moment
they are (a post-import hook), so `ledger.autolog()` itself imports no ML framework.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerWarning

_MISSING = object()
_lock = threading.RLock()


@dataclass
class _Patch:
    owner: Any
    name: str
    original: Any  # the attribute as it was in owner's own namespace, or _MISSING


_patches: dict[str, list[_Patch]] = {}


def patch(framework: str, owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace `owner.name` by `make(current)`, remembering the original for `unpatch`."""
    with _lock:
        own = vars(owner).get(name, _MISSING)
        if not isinstance(own, types.FunctionType) and isinstance(getattr(own, "fn", None), types.FunctionType):
            # A descriptor wrapping the method (sklearn's `available_if`, which decides
            # whether the method exists at all): wrap its function, keep the descriptor.
            owner, name, own = own, "fn", own.fn
        if not isinstance(own, types.FunctionType) or getattr(own, "__ledger_autolog__", False):
            return  # only plain functions in owner's own namespace, and only once
        wrapper = make(own)
        wrapper.__ledger_autolog__ = True  # type: ignore[attr-defined]
        setattr(owner, name, wrapper)
        _patches.setdefault(framework, []).append(_Patch(owner, name, own))


def unpatch(framework: str) -> None:
    """Put back everything `patch` changed for `framework`, newest first."""
    with _lock:
        for item in reversed(_patches.pop(framework, [])):
            if item.original is _MISSING:
                with contextlib.suppress(AttributeError):
                    delattr(item.owner, item.name)
            else:
                setattr(item.owner, item.name, item.original)
        for module in [m for m, (fw, _) in _hooks.items() if fw == framework]:
            del _hooks[module]


def patched(framework: str) -> bool:
    return bool(_patches.get(framework))


# ---------------------------------------------------------------------- post-import hooks

_hooks: dict[str, tuple[str, Callable[[types.ModuleType], None]]] = {}


class _HookLoader(importlib.abc.Loader):
    """Runs the real loader, then the hook for the freshly imported module."""

    def __init__(self, loader: importlib.abc.Loader, fullname: str):
        self._loader = loader
        self._fullname = fullname

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        hook = _hooks.pop(self._fullname, None)
        if hook is not None:
            safely(f"autolog for {hook[0]}", hook[1], module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _HookFinder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self._busy: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _hooks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _HookLoader(spec.loader, fullname)
        return spec


_finder = _HookFinder()


def when_imported(framework: str, module: str, hook: Callable[[types.ModuleType], None]) -> None:
    """Call `hook(module)` now if `module` is imported, else right after it is."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        hook(loaded)
        return
    with _lock:
        _hooks[module] = (framework, hook)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# ---------------------------------------------------------------------- capture helpers


def warn(what: str, exc: BaseException) -> None:
    warnings.warn(f"autolog could not capture {what}: {type(exc).__name__}: {exc}", LedgerWarning, stacklevel=3)


def safely(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a capture step; a failure is a LedgerWarning and None, never an exception."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - capture must never break training
        warn(what, exc)
        return None


_state = threading.local()


def depth() -> int:
    return int(getattr(_state, "depth", 0))


@contextlib.contextmanager
def outermost() -> Iterator[bool]:
    """True for the outermost autologged call in this thread; nested calls only train
    (a Pipeline's steps, a search's candidates, XGBClassifier.fit calling xgboost.train)."""
    level = depth()
    _state.depth = level + 1
    try:
        yield level == 0
    finally:
        _state.depth = level


@contextlib.contextmanager
def run_for(framework: str, name: str) -> Iterator[Any]:
    """The run a training call logs into: the active one, else a new run for this call
    (None when no run can be started, e.g. outside a git repository: training goes on)."""
    from ledger.write import active as fluent

    active = safely("the active run", fluent.active_run)
    if active is not None:
        yield active
        return
    try:
        run = fluent.start_run(name=name, tags={"autolog": framework})
    except Exception as exc:  # noqa: BLE001 - no run means no record, never no training
        warn("a run for this training call", exc)
        yield None
        return
    with run:
        yield run


def caller_variable(value: Any, skip: tuple[str, ...]) -> str | None:
    """The name the user's code gives `value` (e.g. `X_test`), from the first frame outside
    ledger and the framework; None when it has no simple name."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            module = str(frame.f_globals.get("__name__", ""))
            if not module.startswith(("ledger.autolog", "ledger.integrations", *skip)):
                for key, item in frame.f_locals.items():
                    if item is value and key.isidentifier() and not key.startswith("_"):
                        return key
                return None
            frame = frame.f_back
        return None
    finally:
        del frame


def called_from(prefixes: tuple[str, ...]) -> bool:
    """Whether the caller of the patched function (two frames up) is in one of `prefixes`."""
    if not prefixes:
        return False
    frame = sys._getframe(2)  # noqa: SLF001 - the documented way to see the caller's module
    return str(frame.f_globals.get("__name__", "")).startswith(prefixes)


def wraps(original: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """functools.wraps that never fails on odd callables (C functions, partials)."""

    def decorate(wrapper: Callable[..., Any]) -> Callable[..., Any]:
        with contextlib.suppress(AttributeError, TypeError):
            functools.update_wrapper(wrapper, original)
        return wrapper

    return decorate


Before = Callable[[Any, tuple[Any, ...], dict[str, Any]], "tuple[tuple[Any, ...], dict[str, Any], Any]"]
After = Callable[[Any, tuple[Any, ...], dict[str, Any], Any, Any, float], None]


def training_wrapper(
    framework: str,
    original: Callable[..., Any],
    *,
    name: Callable[[tuple[Any, ...]], str],
    before: Before,
    after: After,
    internal: tuple[str, ...] = (),
    wanted: Callable[[tuple[Any, ...]], bool] | None = None,
) -> Callable[..., Any]:
    """A training entry point that logs into a run: `before(run, args, kwargs)` logs what is
    known up front and may return changed arguments (an extra callback) with a state;
    `after(run, args, kwargs, result, state, seconds)` logs the outcome. Either failing is a
    warning and the original arguments are used; an exception from training itself
    propagates (a run of our own records it as failed first). Calls made by the modules
    named in `internal` (a library's own helpers, e.g. cross-validation), and calls that
    `wanted(args)` turns down, only train."""

    @wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with outermost() as top:
            if not top or called_from(internal) or (wanted is not None and not wanted(args)):
                return original(*args, **kwargs)
            with run_for(framework, name(args)) as run:
                if run is None:
                    return original(*args, **kwargs)
                prepared = safely(f"{framework} parameters", before, run, args, kwargs)
                call_args, call_kwargs, state = prepared if prepared is not None else (args, kwargs, None)
                started = time.perf_counter()
                result = original(*call_args, **call_kwargs)
                elapsed = time.perf_counter() - started
                safely(f"{framework} training results", after, run, args, kwargs, result, state, elapsed)
                return result

    return wrapper
