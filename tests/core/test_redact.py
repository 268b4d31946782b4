"""Redaction rules one by one: key names word by word, shapes that need a second look,
command lines, files in the code patch, and a project's own `secrets:` patterns."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from ledger.core.redact import REDACTED, redact, redact_file, redactor, scrub_paths, secret_key_kind
from ledger.write.capture.code import capture_code
from support.secret_corpus import ALL_SHAPES, HARMLESS, generate


@pytest.mark.parametrize(
    "key",
    ["passphrase", "pass", "pw", "pwd", "key", "api_key", "apiKey", "dsn", "database_url", "cookie",
     "connection_string", "webhook_url", "encryption_key", "accessKeyId", "secretAccessKey",
     "smtp_pass", "auth", "credentials", "private_key", "AWS_SECRET_ACCESS_KEY", "db.password",
     "x-api-key", "HF_TOKEN", "password2"],
)  # fmt: skip
def test_secret_key_names(key: str) -> None:
    assert secret_key_kind(key) is not None


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "token_count", "token_dropout", "keyframe", "pad_token", "eos_token", "pad_token_id",
     "sort_key", "rng_key", "key_dim", "n_passes", "forward_pass", "password_min_length", "monkey",
     "tokenizer", "secret_name"],
)  # fmt: skip
def test_ordinary_key_names(key: str) -> None:
    assert secret_key_kind(key) is None


def test_every_shape_is_found_in_text_by_itself() -> None:
    rng = random.Random(3)
    hide = redactor(("ACME-[A-Z0-9]{12}-INTERNAL",))
    for shape in ALL_SHAPES:
        secret = generate(shape, rng)
        out = hide.text(f"value: {secret.text} (end)")
        assert not any(f in out for f in secret.fragments), (shape, out)


def test_harmless_params_stay() -> None:
    assert redact(dict(HARMLESS)) == HARMLESS


def test_weak_names_keep_numbers_strong_names_do_not() -> None:
    assert redact({"key": 3, "password": 1234, "token": "abc"}) == {"key": 3, "password": REDACTED, "token": REDACTED}


def test_everything_under_a_secret_mapping_is_redacted() -> None:
    assert redact({"credentials": {"user": "ada", "id": 7}}) == {"credentials": {"user": REDACTED, "id": REDACTED}}


def test_command_lines() -> None:
    argv = ["python", "t.py", "--password", "hunter2", "--lr", "0.1", "--api-key=abc", "--token", "-v"]
    assert redactor().argv(argv) == ["python", "t.py", "--password", REDACTED, "--lr", "0.1",
                                     f"--api-key={REDACTED}", "--token", "-v"]  # fmt: skip


def test_named_values_in_text() -> None:
    hide = redactor()
    assert (
        hide.text("export DATABASE_URL=mysql-prod-1 max_tokens=512") == f"export DATABASE_URL={REDACTED} max_tokens=512"
    )
    assert hide.text('{"pw": "s3cr3t", "n_passes": "3"}') == f'{{"pw": "{REDACTED}", "n_passes": "3"}}'
    assert hide.text("ssh://git@github.com/a/b.git") == "ssh://git@github.com/a/b.git"
    assert hide.text("model sk-resnet50-imagenet") == "model sk-resnet50-imagenet"


def test_source_code_keeps_expressions_and_loses_literals() -> None:
    code = b'token = tokenizer(x)\nkey = jax.random.PRNGKey(0)\nAPI_KEY = "abcdef123"\n'
    out = redact_file("train.py", code).decode()
    assert out == f'token = tokenizer(x)\nkey = jax.random.PRNGKey(0)\nAPI_KEY = "{REDACTED}"\n'
    assert redact_file("model.bin", b"\0password=x") == b"\0password=x"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_a_secret_in_a_changed_or_untracked_file_never_becomes_a_git_object(repo: Path) -> None:
    token = "ghp_" + "Zq7" * 12
    (repo / "train.py").write_text(f"print('x')\nTOKEN = '{token}'\n", encoding="utf-8")
    (repo / "local.yaml").write_text("password: correct-horse-battery\n", encoding="utf-8")
    code = capture_code(repo, secrets=())
    assert set(code.redacted) == {"train.py", "local.yaml"}
    assert REDACTED.encode() in code.patch and token.encode() not in code.patch
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo,
                             capture_output=True, check=True).stdout  # fmt: skip
    assert token.encode() not in objects and b"correct-horse-battery" not in objects
    assert (repo / "train.py").read_text("utf-8").endswith(f"'{token}'\n")  # the file itself is untouched
    assert _git(repo, "status", "--porcelain") == " M train.py\n?? local.yaml\n"  # and the index


def test_project_patterns_apply_to_records(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("experiment: t\nsecrets: ['INTERNAL-[0-9]{6}']\n", encoding="utf-8")
    import ledger

    with ledger.start_run(name="run INTERNAL-123456", tags={"ticket": "INTERNAL-654321"}) as run:
        run.log_params({"customer": "INTERNAL-111111"})
        run.note("see INTERNAL-222222")
    text = run.path.read_text("utf-8")
    assert "INTERNAL-" not in text and "INTERNAL" not in run.id.upper()
    assert "INTERNAL" not in _git(repo, "log", "-1", "--format=%B")


def test_paths_are_scrubbed_whole_so_a_url_keeps_its_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """With HOME=/root, `mysql://root:pw@` once became `mysql:/<home>:pw@`, which no
    secret pattern matched, so the password reached the run's output log."""
    monkeypatch.setenv("HOME", "/root")
    assert scrub_paths("mysql://root:pw@db/shop /rooted/x", None) == "mysql://root:pw@db/shop /rooted/x"
    assert (
        scrub_paths('File "/root/train.py", PATH=/root:/usr/bin', None)
        == 'File "<home>/train.py", PATH=<home>:/usr/bin'
    )
