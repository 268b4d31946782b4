"""The architecture docs/architecture.md describes, held by parsing every module of src/ledger
(pure AST, no imports): which package may import which, no cycles between packages, git run
only inside ledger.gitstore, and each optional heavy dependency behind its one module."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# package -> the ledger packages it may import (None: no rule beyond "no cycles").
ALLOWED: dict[str, frozenset[str] | None] = {
    "errors": frozenset(),
    "core": frozenset({"errors"}),
    "gitstore": frozenset({"core", "errors"}),
}
# package -> the ledger packages it must never import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "read": frozenset({"write", "views", "cli", "ui", "dvc", "sweep", "reproduce", "gates", "mlflow_store"}),
    "views": frozenset({"write", "cli", "ui"}),
    "dvc": frozenset({"write", "read", "views", "cli"}),
}
# the private git runner and its helpers: for the modules of ledger.gitstore only.
GIT_RUNNER = frozenset({"_git", "_text", "_git_ok", "git", "text", "git_ok"})
# optional or heavy third-party packages -> the one module or package that may import each.
HEAVY: dict[str, tuple[str, ...]] = {
    "dvc": ("ledger.dvc.data",),
    "dvc_data": ("ledger.dvc.data",),
    "matplotlib": ("ledger.views.plot.charts",),
    "mlflow": ("ledger.mlflow_store",),
    "starlette": ("ledger.ui",),
    "uvicorn": ("ledger.ui",),
    "plotly": ("ledger.ui",),
    "optuna": ("ledger.write.optuna",),
    "submitit": ("ledger.sweep.submit",),
    "psutil": ("ledger.write.system_probe",),
    "pynvml": ("ledger.write.system_nvml",),
    "pandas": ("ledger.read.frames",),
    "yaml": ("ledger.core.yamlsafe",),  # PyYAML: loaded on the first YAML read or written
}
WRITE_MAX_LINES = 400
SUBPROCESS_CALLS = frozenset({"run", "Popen", "call", "check_call", "check_output"})
# ledger.read's machinery: private to the read package. Every other module reads runs through
# the library face, ledger.read.api (its types: api.Item, api.Loaded, api.Selection, ...).
READ_PRIVATE = frozenset(
    {"records", "sources", "summary", "treeindex", "cache", "bulkread", "shapes", "fastyaml", "fastschema",
     "batches", "columns", "slotschema", "treebuild", "metriccolumn",
     "selected", "revision", "lookups", "pages"}  # the last four: api's parts, re-exported by it
)  # fmt: skip
# ...and what other modules may import from it: the face, and helpers that read nothing
# themselves (ranking, the filter grammar, known names, one run's whereabouts, liveness, frames).
READ_PUBLIC = frozenset({"api", "query", "filter", "known", "locate", "liveness", "frames"})
# Machinery imports outside ledger.read still to be replaced by api's (none: ledger.ui reads
# through api too). Not an allowance: the test fails on an import not listed here, and on a
# line here that is no longer needed (delete it).
PENDING_UI: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Module:
    name: str  # ledger.read.api
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""

    def within(self, prefix: str) -> bool:
        return self.name == prefix or self.name.startswith(prefix + ".")


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for path in sorted((SRC / "ledger").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        found.append(Module(name, path, ast.parse(path.read_bytes(), filename=str(path))))
    return tuple(found)


def imports(module: Module) -> list[tuple[ast.AST, str, list[str]]]:
    """(node, imported module, names) for every import, lazy ones included, relative ones
    resolved."""
    return _facts(module)[0]


@cache
def _facts(module: Module) -> tuple[list[tuple[ast.AST, str, list[str]]], list[ast.AST], set[ast.AST]]:
    """One walk of a module: its imports, its calls and attribute reads, and the imports
    under `if TYPE_CHECKING:` (they never run)."""
    found: list[tuple[ast.AST, str, list[str]]] = []
    others: list[ast.AST] = []
    type_only: set[ast.AST] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found.extend((node, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = module.name.split(".")
                if module.path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, target] if target else base)
            found.append((node, target, [alias.name for alias in node.names]))
        elif isinstance(node, (ast.Call, ast.Attribute)):
            others.append(node)
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            type_only.update(
                n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))
            )
    return found, others, type_only


def ledger_targets(module: Module) -> Iterator[tuple[ast.AST, str]]:
    """(node, ledger module) for each ledger import; `from ledger import x` counts as ledger.x."""
    for node, target, names in imports(module):
        if target == "ledger":
            for name in names:
                yield node, f"ledger.{name}"
        elif target.startswith("ledger."):
            yield node, target


def package_of(target: str) -> str:
    return target.split(".")[1]


def package_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module in modules():
        for _, target in ledger_targets(module):
            if package_of(target) != module.package and module.package:
                edges.setdefault(module.package, set()).add(package_of(target))
    return edges


def where(module: Module, node: ast.AST) -> str:
    return f"{module.path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"


def test_the_scan_sees_the_whole_package() -> None:
    names = {m.name for m in modules()}
    assert {"ledger.core.config", "ledger.gitstore.core", "ledger.read.api", "ledger.write.tracking"} <= names
    assert len(names) > 100


def test_packages_import_only_what_the_layers_allow() -> None:
    wrong = []
    for module in modules():
        allowed, forbidden = ALLOWED.get(module.package), FORBIDDEN.get(module.package, frozenset())
        for node, target in ledger_targets(module):
            other = package_of(target)
            if other == module.package or other == "__version__":
                continue
            if (allowed is not None and other not in allowed) or other in forbidden:
                wrong.append(f"{where(module, node)} {module.name} imports {target}")
    assert wrong == []


def test_no_cycles_between_packages() -> None:
    edges = package_edges()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt == path[0]:
                cycles.append(" -> ".join([*path, nxt]))
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest package
                visit(nxt, [*path, nxt])

    for start in sorted(edges):
        visit(start, [start])
    assert cycles == []


def read_modules(module: Module) -> Iterator[tuple[ast.AST, str]]:
    """(node, ledger.read.<module>) for each import of a module of the read package:
    `from ledger.read import records` counts as ledger.read.records."""
    for node, target, names in imports(module):
        if target == "ledger.read":
            for name in names:
                yield node, f"ledger.read.{name}"
        elif target.startswith("ledger.read."):
            yield node, ".".join(target.split(".")[:3])


def machinery_imports(module: Module) -> list[tuple[ast.AST, str]]:
    if module.within("ledger.read"):
        return []
    return [(node, target) for node, target in read_modules(module) if target.split(".")[2] in READ_PRIVATE]


def test_every_read_module_is_the_face_a_helper_or_machinery() -> None:
    """A new module of ledger.read is placed on purpose: private, or importable by others."""
    found = {m.name.split(".")[2] for m in modules() if m.within("ledger.read") and m.name != "ledger.read"}
    assert found == READ_PRIVATE | READ_PUBLIC
    assert not READ_PRIVATE & READ_PUBLIC


def test_only_the_read_package_uses_its_machinery() -> None:
    wrong = []
    pending = {(name, target) for name, targets in PENDING_UI.items() for target in targets}
    seen = set()
    for module in modules():
        for node, target in machinery_imports(module):
            seen.add((module.name, target))
            if (module.name, target) not in pending:
                wrong.append(f"{where(module, node)} {module.name} imports {target}: read through ledger.read.api")
    assert wrong == []
    assert sorted(pending - seen) == [], "no longer imported: remove these from PENDING_UI"


def test_the_read_machinery_rule_can_fail(tmp_path: Path) -> None:
    """Each way of reaching the machinery is seen; the face and the helpers are not."""
    source = (
        "from ledger.read import records as store\nfrom ledger.read.sources import Selection\n"
        "import ledger.read.cache\nfrom ledger.read import api, query\nfrom ledger.read.known import Known\n"
    )
    module = Module("ledger.views.bad", tmp_path / "bad.py", ast.parse(source))
    assert [t for _, t in machinery_imports(module)] == [
        "ledger.read.records",
        "ledger.read.sources",
        "ledger.read.cache",
    ]
    inside = Module("ledger.read.fine", tmp_path / "fine.py", ast.parse(source))
    assert machinery_imports(inside) == []


def test_dvc_pipeline_and_overrides_do_not_import_each_other() -> None:
    inside = {m.name: {t for _, t in ledger_targets(m)} for m in modules() if m.within("ledger.dvc")}
    for name, targets in inside.items():
        for target in targets:
            assert name not in inside.get(target, set()), f"{name} and {target} import each other"


def test_git_runs_only_inside_gitstore() -> None:
    wrong = []
    for module in modules():
        if module.within("ledger.gitstore"):
            continue
        for node in _facts(module)[1]:
            if isinstance(node, ast.Call) and _runs_git(node):
                wrong.append(f"{where(module, node)} runs git")
            if isinstance(node, ast.Attribute) and node.attr in GIT_RUNNER and _names_gitstore(node.value):
                wrong.append(f"{where(module, node)} uses gitstore.{node.attr}")
        for node, target, names in imports(module):
            if target.startswith("ledger.gitstore") and set(names) & GIT_RUNNER:
                wrong.append(f"{where(module, node)} imports the git runner from {target}")
            if target.startswith("ledger.gitstore") and any(n.startswith("_") for n in names):
                wrong.append(f"{where(module, node)} imports a private name of {target}")
    assert wrong == []


def _names_gitstore(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "gitstore"
    return isinstance(node, ast.Attribute) and node.attr == "gitstore"


def _runs_git(call: ast.Call) -> bool:
    """A subprocess (or os.exec*/os.system) call whose program is git."""
    func = call.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return False
    owner, name = func.value.id, func.attr
    if not (
        (owner == "subprocess" and name in SUBPROCESS_CALLS)
        or (owner == "os" and name.startswith(("exec", "system", "spawn", "popen")))
    ):
        return False
    for arg in call.args[:2]:
        if isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
            arg = arg.elts[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if arg.value == "git" or arg.value.startswith("git "):
                return True
    return False


def test_heavy_dependencies_stay_behind_their_module() -> None:
    wrong = []
    for module in modules():
        skip = _facts(module)[2]
        for node, target, _ in imports(module):
            if node in skip:
                continue
            top = target.split(".")[0]
            homes = HEAVY.get(top)
            if homes is not None and not any(module.within(home) for home in homes):
                wrong.append(f"{where(module, node)} imports {target} (only {', '.join(homes)} may)")
    assert wrong == []


def test_the_write_path_modules_stay_small() -> None:
    """STYLE.md: past ~400 lines a module is split by responsibility (the run lifecycle
    grew to ~490 in one module before it was split into tracking, start, run_logging,
    points, heartbeat and interrupts)."""
    large = {
        str(m.path.relative_to(SRC)): n
        for m in modules()
        if m.within("ledger.write") and (n := len(m.path.read_text(encoding="utf-8").splitlines())) >= WRITE_MAX_LINES
    }
    assert not large, f"split these by responsibility: {large}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("subprocess.run(['git', 'status'])", True),
        ("subprocess.Popen(('git', 'cat-file', '--batch'))", True),
        ("subprocess.check_output('git log', shell=True)", True),
        ("os.execvp('git', ['git'])", True),
        ("subprocess.run(['dvc', 'repro'])", False),
        ("run(['git', 'status'])", False),  # not a subprocess call this check can name
    ],
)
def test_the_git_call_detector(source: str, expected: bool) -> None:
    """The detector itself: it must see the ways a module could run git."""
    call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
    assert _runs_git(call) is expected


def test_the_import_rules_can_fail(tmp_path: Path) -> None:
    """A layer violation is found (so a green run means something)."""
    tree = ast.parse("from ledger.write import tracking\nfrom ledger import cli\n")
    module = Module("ledger.read.bad", tmp_path / "bad.py", tree)
    assert [t for _, t in ledger_targets(module)] == ["ledger.write", "ledger.cli"]
    assert {package_of(t) for _, t in ledger_targets(module)} <= FORBIDDEN["read"]
