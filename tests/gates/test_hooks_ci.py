"""`ledger ci github`: the workflow is valid YAML, safe, and calls only ledger commands that
exist, with arguments they accept."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger.cli import build_parser
from ledger.core import yamlio
from ledger.gates import ci as ci_template
from ledger.views.review import markdown as review_markdown
from support.repo import ledger_cli


def _workflow(text: str) -> dict[str, Any]:
    data = yamlio.loads(text)
    assert data == yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as true; GitHub reads it as "on".
    data["on"] = data.pop(True)
    return data


def _ledger_calls(workflow: dict[str, Any]) -> list[list[str]]:
    calls = []
    for step in workflow["jobs"]["review"]["steps"]:
        for line in step.get("run", "").splitlines():
            line = re.split(r"\s[>|]", line)[0].strip()  # drop redirections
            if line.startswith("ledger "):
                calls.append(shlex.split(line.replace("$BASE_REF", "main")))
    return calls


@pytest.mark.parametrize("gate", [False, True])
def test_workflow_is_valid_and_calls_existing_commands(repo: Path, gate: bool) -> None:
    text = ci_template.render(fail_on_regression=gate)
    wf = _workflow(text)
    assert wf["on"] == {"pull_request": None}
    assert "pull_request_target" not in text
    assert wf["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = wf["jobs"]["review"]["steps"]
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    actions = {s["uses"].split("@")[0] for s in steps if "uses" in s}
    assert actions == {"actions/checkout", "actions/setup-python", "actions/github-script"}
    assert "${{" not in "".join(s.get("run", "") for s in steps)  # no expression injection
    calls = _ledger_calls(wf)
    commands = [c[1] for c in calls]
    assert {"check", "diff"} <= set(commands)
    assert ["ledger", "check", "--rev", "origin/main..HEAD"] in calls
    assert ["ledger", "diff", "origin/main", "--format", "markdown"] in calls
    assert ("--fail-on-regression" in text) is gate
    parser = build_parser()
    for call in calls:
        assert ledger_cli(repo, call[1], "--help").returncode == 0
        parser.parse_args(call[1:])  # every flag exists (argparse exits on an unknown one)


def test_comment_is_one_and_updated_in_place_through_the_forge_api() -> None:
    wf = _workflow(ci_template.render())
    [script_step] = [s for s in wf["jobs"]["review"]["steps"] if "github-script" in s.get("uses", "")]
    script = script_step["with"]["script"]
    assert f"const marker = '{review_markdown.MARKER}';" in script
    assert "github.rest.issues.updateComment" in script
    assert "github.rest.issues.createComment" in script
    assert "c.body.startsWith(marker)" in script
    assert "http" not in script  # nothing is uploaded anywhere else


def test_ci_github_writes_the_file_and_never_overwrites(repo: Path) -> None:
    proc = ledger_cli(repo, "ci", "github")
    assert proc.returncode == 0, proc.stderr
    path = repo / ci_template.WORKFLOW_PATH
    assert path.read_text(encoding="utf-8") == ci_template.render()
    path.write_text("# mine\n", encoding="utf-8")
    refused = ledger_cli(repo, "ci", "github")
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"
    forced = ledger_cli(repo, "ci", "github", "--force", "--fail-on-regression")
    assert forced.returncode == 0
    assert "--fail-on-regression" in path.read_text(encoding="utf-8")
    printed = ledger_cli(repo, "ci", "github", "--stdout")
    assert printed.stdout == ci_template.render()
