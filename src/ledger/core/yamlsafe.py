"""PyYAML behind `yamlio`: the safe loader with ledger's rules on top, and the deterministic
dumper. Only `yamlio` imports this module, and only when a document is actually read or
written, so a command that reads no YAML (a warm `ledger top`) never imports PyYAML.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import yaml

from ledger.errors import RecordError

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))


class _Loader(_BaseLoader):
    """Safe loader whose timestamps stay JSON-compatible (ISO strings)."""


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> str:
    value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


_Loader.add_constructor(_CORE + "timestamp", _construct_timestamp)


def implicit_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """How the loader types a plain scalar: first character -> [(tag, regexp)], for the
    fast reader that must type scalars exactly as the loader does."""
    return {key: list(items) for key, items in _Loader.yaml_implicit_resolvers.items()}


def _key_value(loader: Any, node: yaml.ScalarNode, source: str) -> Any:
    """What a key becomes once constructed: `1`, `0x1` and `1.0` are one key, as are
    `true` and `True`, so the second spelling would silently replace the first."""
    try:
        value = loader.construct_object(node)
        hash(value)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, yaml.YAMLError):
        raise RecordError(f"invalid mapping key {node.value!r}", path=source) from None
    return value


def _check_nodes(root: yaml.Node, source: str, max_depth: int, loader: Any) -> None:
    """Walk the composed node graph once, refusing what a machine-written record never has."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise RecordError("YAML aliases/anchors are not allowed", path=source)
        seen.add(id(node))
        if depth > max_depth:
            raise RecordError(f"nesting deeper than {max_depth} levels", path=source)
        if node.tag not in _ALLOWED_TAGS:
            raise RecordError(f"YAML tag {node.tag!r} is not allowed", path=source)
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise RecordError("mapping keys must be plain scalars", path=source)
                if key_node.value == "<<" and key_node.tag == _CORE + "merge":
                    raise RecordError("YAML merge keys are not allowed", path=source)
                if key_node.tag not in _ALLOWED_TAGS:
                    raise RecordError(f"YAML tag {key_node.tag!r} is not allowed", path=source)
                key = _key_value(loader, key_node, source)
                if key in keys:
                    raise RecordError(f"duplicate key {key_node.value!r}", path=source)
                keys.add(key)
                stack.append((key_node, depth + 1))
                stack.append((value_node, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def loads(text: str | bytes, *, source: str, max_bytes: int, max_depth: int) -> Any:
    """Parse one untrusted YAML document; raise RecordError naming `source` on any violation."""
    if len(text) > max_bytes:
        raise RecordError(f"larger than {max_bytes} bytes", path=source)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"not UTF-8 ({exc.reason})", path=source) from None
    loader = _Loader(text)
    node = None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, source, max_depth, loader)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecordError(f"invalid YAML: {problem}{where}", path=source) from None
    except RecursionError:
        raise RecordError(f"nesting deeper than {max_depth} levels", path=source) from None
    except _CONSTRUCTOR_ERRORS:
        # A scalar its tag (written, or implied: `2026-13-45` is a timestamp) cannot hold.
        raise RecordError(_bad_scalar(loader, node), path=source) from None
    finally:
        loader.dispose()


# What PyYAML's constructors raise, beyond YAMLError, for a scalar their type cannot hold
# (`!!bool x`: KeyError, `!!int ''`: IndexError, `!!timestamp x`: AttributeError, an
# invalid date: ValueError).
_CONSTRUCTOR_ERRORS = (ValueError, KeyError, AttributeError, IndexError, TypeError, OverflowError)


def _bad_scalar(loader: Any, root: yaml.Node | None) -> str:
    """The message for a document whose construction failed: the first scalar that fails."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        else:
            try:
                loader.yaml_constructors[node.tag](loader, node)
            except _CONSTRUCTOR_ERRORS:
                kind = node.tag[len(_CORE) :] if node.tag.startswith(_CORE) else node.tag
                mark = node.start_mark
                text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
                return (
                    f"invalid YAML: {text!r} is not a valid {kind} (line {mark.line + 1}, "
                    f"column {mark.column + 1}): quote it to keep it as text"
                )
    return "invalid YAML: a value its type cannot hold"


class _Dumper(_BaseDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


# Strings that any YAML 1.1 or 1.2 reader could take for a number, boolean, null or date
# are always quoted, so a record means the same thing to every parser.
_LOOKS_TYPED = re.compile(
    r"""^(?:
        [-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | 0x[0-9a-fA-F_]+ | 0o[0-7_]+ | 0b[01_]+ | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
      | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL|=|<<
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
    )$""",
    re.VERBOSE,
)


def _represent_str(dumper: Any, data: str) -> yaml.Node:
    if "\n" in data:
        style: str | None = "|"
    elif _LOOKS_TYPED.match(data):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar(_CORE + "str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(data: Any) -> str:
    """Serialize plain data deterministically (the caller owns key order)."""
    return str(
        yaml.dump(
            data,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=1 << 16,
            indent=2,
        )
    )
