from __future__ import annotations

import math
from pathlib import Path

import pytest

from ledger.core import yamlio
from ledger.errors import RecordError


@pytest.mark.parametrize(
    "text",
    ["1", "1.5", "1e3", "-2", ".5", "0x1F", "0o17", "1_000", "yes", "No", "on", "OFF", "true",
     "null", "~", "", "2026-11-27", "2026-11-27T05:12:03Z", "12:30", ".inf", ".nan", "<<", "="],
)  # fmt: skip
def test_strings_that_look_typed_round_trip_as_strings(text: str) -> None:
    dumped = yamlio.dumps({"value": text})
    assert yamlio.loads(dumped) == {"value": text}
    assert "'" in dumped  # quoted, so a YAML 1.2 reader agrees too


def test_field_order_multiline_and_special_floats() -> None:
    data = {"z": 1, "a": "line one\nline two", "nan": float("nan"), "inf": float("inf")}
    dumped = yamlio.dumps(data)
    assert dumped.index("z:") < dumped.index("a:")
    assert "a: |-\n  line one\n  line two" in dumped
    back = yamlio.loads(dumped)
    assert math.isnan(back["nan"]) and back["inf"] == math.inf
    assert back["a"] == data["a"]


def test_writer_never_emits_aliases() -> None:
    shared = {"x": 1}
    dumped = yamlio.dumps({"a": shared, "b": shared})
    assert "&" not in dumped and "*" not in dumped


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: &x 1\nb: *x\n", "aliases"),
        ("a: !!python/object/apply:os.system ['touch pwned']\n", "tag"),
        ("a: !custom 1\n", "tag"),
        ("a: 1\na: 2\n", "duplicate key"),
        ("m:\n  1: a\n  0x1: b\n", "duplicate key"),
        ("m:\n  true: a\n  True: b\n", "duplicate key"),
        ("m:\n  1.0: a\n  1: b\n", "duplicate key"),
        ("m:\n  '1': a\n  1: b\n  01: c\n", "duplicate key"),
        ("m:\n  1: a\n  true: b\n", "duplicate key"),  # one Python key: data would be lost
        ("m:\n  ~: a\n  null: b\n", "duplicate key"),
        ("a: " + "[" * 40 + "]" * 40 + "\n", "nesting"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", "merge keys|aliases"),
        ("a: [unclosed\n", "invalid YAML"),
        ("a: !!binary aGVsbG8=\n", "tag"),
    ],
)
def test_unsafe_or_malformed_yaml_is_refused(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        yamlio.loads(text, source="evil.yaml")


def test_keys_that_only_look_alike_are_two_keys() -> None:
    assert yamlio.loads("m:\n  '1': a\n  1: b\nn:\n  'true': c\n  true: d\n") == {
        "m": {"1": "a", 1: "b"},
        "n": {"true": "c", True: "d"},
    }


def test_python_tag_never_executes(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(RecordError):
        yamlio.loads(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(RecordError, match="aliases"):
        yamlio.loads("\n".join(lines))


def test_oversize_and_non_utf8_are_refused() -> None:
    with pytest.raises(RecordError, match="larger than"):
        yamlio.loads("a: " + "x" * 100, max_bytes=50)
    with pytest.raises(RecordError, match="UTF-8"):
        yamlio.loads(b"a: \xff\xfe\n")


def test_error_names_the_source_and_line() -> None:
    with pytest.raises(RecordError) as info:
        yamlio.loads("a: 1\nb: [\n", source="params.yaml")
    assert str(info.value).startswith("params.yaml: invalid YAML")
    assert "line" in str(info.value)


def test_unquoted_dates_in_user_files_become_strings() -> None:
    assert yamlio.loads("start: 2024-01-05\n") == {"start": "2024-01-05"}


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "dir" / "r.yaml"
    yamlio.dump_file(target, {"a": 1})
    yamlio.dump_file(target, {"a": 2})
    assert yamlio.load_file(target) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["r.yaml"]
