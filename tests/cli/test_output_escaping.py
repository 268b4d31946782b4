"""Record text in `ls`/`top` tables is inert: no HTML, no links, no forged rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import ledger
from ledger.cli import main

EVIL_NAME = 'evil\n| 99 | forged-run | finished | 1.0 |\r\n<img src=x onerror="alert(1)">'
EVIL_TAG = "[click me](https://evil.example/steal) **bold** <script>alert(2)</script> www.evil.example"


@pytest.fixture
def hostile(repo: Path) -> Path:
    with ledger.start_run(name=EVIL_NAME, tags={"stage": EVIL_TAG}) as run:
        run.log_metric("auc", 0.5)
    with ledger.start_run(name="plain") as run:
        run.log_metric("auc", 0.4)
    return repo


@pytest.mark.parametrize("command", [["ls"], ["top", "--metric", "auc"]])
def test_markdown_tables_escape_html_links_and_newlines(
    hostile: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--format", "markdown", "--columns", "tags.stage"] if command[0] == "top"
                else [*command, "--format", "markdown"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    lines = text.strip("\n").splitlines()
    assert len(lines) == 2 + 2  # header, separator, one line per run: no forged row
    assert all(line.startswith("|") and line.rstrip().endswith("|") for line in lines)
    assert "<img" not in text and "<script" not in text
    assert "](https://" not in text and "**bold**" not in text and "forged-run |" not in text


@pytest.mark.parametrize("command", [["ls"], ["top", "--metric", "auc"]])
def test_plain_tables_keep_one_line_per_run(
    hostile: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 0
    lines = capsys.readouterr().out.strip("\n").splitlines()
    assert len(lines) == 2 + 2  # header, rule, two runs
    assert sum("forged-run" in line for line in lines) == 1  # inside the evil run's own line


def test_csv_and_json_keep_the_name_whole(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3  # the quoted newline stays inside its field
    assert any(field.startswith("evil\n| 99 | forged-run") for row in rows for field in row)
    assert main(["ls", "--format", "json"]) == 0
    assert EVIL_NAME in [run["name"] for run in json.loads(capsys.readouterr().out)]
