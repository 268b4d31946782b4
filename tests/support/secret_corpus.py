"""A corpus of synthetic secrets (never real credentials: every variable part is drawn from a
seeded generator) and of harmless parameters that look like them.

`SHAPES` are credential formats that give themselves away; `KEY_NAMES` are names under which
any value is a secret; `HARMLESS` are parameters that must come through unchanged. Each
generated secret knows its `fragments`: the random parts that must never be found again.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

_ALPHABETS = {
    "A": string.ascii_uppercase + string.digits,
    "a": string.ascii_letters + string.digits,
    "l": string.ascii_lowercase + string.digits,
    "h": "0123456789abcdef",
    "b": string.ascii_letters + string.digits + "+/",
    "u": string.ascii_letters + string.digits + "-_",
    "d": string.digits,
    "w": string.ascii_lowercase,
}


@dataclass(frozen=True)
class Secret:
    shape: str
    text: str
    fragments: tuple[str, ...]


def _field(rng: random.Random, kind: str, size: int) -> str:
    chars = _ALPHABETS[kind]
    while True:
        text = "".join(rng.choice(chars) for _ in range(size))
        if kind not in "abu" or size < 12:
            return text
        # Mixed classes, as real random keys almost always are.
        if any(c.isupper() for c in text) and any(c.islower() for c in text) and sum(c.isdigit() for c in text) >= 2:
            return text


def _expand(rng: random.Random, template: str) -> tuple[str, tuple[str, ...]]:
    out, fragments, i = [], [], 0
    while i < len(template):
        if template[i] == "{" and template.find("}", i) > i:
            end = template.index("}", i)
            kind, size = template[i + 1 : end].split(":")
            value = _field(rng, kind, int(size))
            out.append(value)
            if int(size) >= 10:
                fragments.append(value)
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out), tuple(fragments)


_PEM = "-----BEGIN {kind}PRIVATE KEY-----\n{{b:64}}\n{{b:64}}\n{{b:24}}==\n-----END {kind}PRIVATE KEY-----"

SHAPES: dict[str, str] = {
    "aws-access-key-id": "AKIA{A:16}",
    "aws-sts-key-id": "ASIA{A:16}",
    "aws-secret-access-key": "{b:40}",
    "github-classic-pat": "ghp_{a:36}",
    "github-oauth": "gho_{a:36}",
    "github-app": "ghs_{a:36}",
    "github-fine-grained-pat": "github_pat_{a:22}_{a:59}",
    "gitlab-pat": "glpat-{u:20}",
    "openai-legacy": "sk-{a:20}T3BlbkFJ{a:20}",
    "openai-project": "sk-proj-{u:64}",
    "openai-service-account": "sk-svcacct-{u:48}",
    "anthropic": "sk-ant-api03-{u:93}AA",
    "huggingface": "hf_{a:34}",
    "stripe-live": "sk_live_{a:24}",
    "stripe-restricted": "rk_live_{a:24}",
    "stripe-webhook": "whsec_{a:32}",
    "sendgrid": "SG.{u:22}.{u:43}",
    "npm": "npm_{a:36}",
    "pypi": "pypi-AgEIcHlwaS5vcmc{u:70}",
    "slack-bot": "xoxb-{d:11}-{d:12}-{a:24}",
    "slack-user": "xoxp-{d:11}-{d:11}-{d:12}-{h:32}",
    "slack-app": "xapp-1-A{A:10}-{d:13}-{h:64}",
    "slack-webhook": "https://hooks.slack.com/services/T{A:10}/B{A:10}/{a:24}",
    "discord-webhook": "https://discord.com/api/webhooks/{d:18}/{u:68}",
    "azure-storage-connection-string": (
        "DefaultEndpointsProtocol=https;AccountName=acct{w:6};AccountKey={b:86}==;EndpointSuffix=core.windows.net"
    ),
    "azure-sas-url": (
        "https://acct.blob.core.windows.net/data/x.csv?sv=2022-11-02&ss=b&srt=o&sp=r"
        "&se=2030-01-01T00:00:00Z&spr=https&sig={a:43}%3D"
    ),
    "azure-service-bus": ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={b:43}="),
    "google-api-key": "AIza{u:35}",
    "google-oauth-client-secret": "GOCSPX-{u:28}",
    "google-oauth-access-token": "ya29.{u:100}",
    "google-oauth-refresh-token": "1//0{u:60}",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{u:40}.{u:43}",
    "pem-rsa": _PEM.format(kind="RSA "),
    "pem-openssh": _PEM.format(kind="OPENSSH "),
    "pem-pkcs8": _PEM.format(kind=""),
    "pem-ec": _PEM.format(kind="EC "),
    "authorization-bearer": "Authorization: Bearer {u:40}",
    "bare-bearer": "Bearer {a:36}",
    "postgres-url": "postgresql://app:{a:20}@db.internal:5432/prod",
    "mysql-url": "mysql://root:{a:16}@10.0.0.5/shop",
    "mongodb-srv-url": "mongodb+srv://svc:{a:18}@cluster0.abcde.mongodb.net/app",
    "redis-url": "redis://:{a:24}@cache:6379/0",
    "amqp-url": "amqp://guest:{a:16}@mq.internal/vhost",
    "token-as-url-user": "https://{a:40}@git.example.com/org/repo.git",
    "sentry-dsn": "https://{h:32}@o{d:6}.ingest.sentry.io/{d:7}",
    "gcs-signed-url": (
        "https://storage.googleapis.com/b/o.bin?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        "&X-Goog-Expires=900&X-Goog-Signature={h:128}"
    ),
    "s3-presigned-url": (
        "https://b.s3.amazonaws.com/k.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature={h:64}"
    ),
    "digitalocean": "dop_v1_{h:64}",
    "twilio-api-key": "SK{h:32}",
    "mailgun": "key-{a:32}",
    "mailchimp": "{h:32}-us{d:2}",
    "databricks": "dapi{h:32}",
    "shopify": "shpat_{h:32}",
    "vault": "hvs.{u:90}",
    "terraform-cloud": "{l:14}.atlasv1.{u:67}",
    "replicate": "r8_{a:37}",
    "groq": "gsk_{a:52}",
    "telegram-bot": "{d:10}:AA{u:33}",
    "age-secret-key": "AGE-SECRET-KEY-1{A:58}",
    "notion": "ntn_{a:46}",
    "square": "sq0atp-{u:22}",
    "linear": "lin_api_{a:40}",
    "grafana-service-account": "glsa_{a:32}_{h:8}",
    "doppler": "dp.pt.{a:43}",
}

# Names under which any value is a secret, whatever it looks like.
KEY_NAMES = (
    "password", "passwd", "passphrase", "pass", "pw", "pwd", "secret", "client_secret",
    "api_key", "apiKey", "key", "token", "auth_token", "access_token", "refresh_token", "dsn",
    "sentry_dsn", "database_url", "cookie", "session_cookie", "connection_string",
    "webhook_url", "encryption_key", "signing_key", "private_key", "accessKeyId",
    "secretAccessKey", "smtp_pass", "auth", "credentials", "HF_TOKEN", "WANDB_API_KEY",
    "jwt", "bearer_token", "x-api-key", "OPENAI_API_KEY", "db_password",
)  # fmt: skip

# Parameters that look like secrets (or their names) and must come through unchanged.
HARMLESS: dict[str, object] = {
    "max_tokens": 512,
    "max_new_tokens": 256,
    "token_count": 10,
    "token_dropout": 0.1,
    "num_tokens": 4096,
    "pad_token": "<pad>",
    "eos_token": "</s>",
    "pad_token_id": 0,
    "tokenizer": "bert-base-uncased",
    "keyframe": 5,
    "keyframe_interval": 12,
    "key_dim": 64,
    "sort_key": "val_loss",
    "rng_key": 42,
    "monitor_key": "val/auc",
    "n_passes": 3,
    "forward_pass": "fused",
    "password_min_length": 8,
    "secret_name": "prod-db",
    "bypass_cache": True,
    "model": "sk-resnet50-imagenet-finetuned",
    "backbone": "sk-resnext101-32x8d",
    "dataset": "hf_internal_testing",
    "hub_model": "hf-user/distilbert-sst2",
    "git_sha": "3f2c9a1b7d4e5f60718293a4b5c6d7e8f9012345",
    "data_md5": "5d41402abc4b2a76b9719d911017c592",
    "run_url": "https://wandb.ai/team/proj/runs/1a2b3c4d",
    "repo": "ssh://git@github.com/acme/churn.git",
    "checkpoint": "s3://bucket/models/resnet50-epoch10.pt",
    "notes_text": "we pass the token count to the key encoder",
    "scheduler": "cosine_with_restarts",
    "monkey_patch": False,
}


def generate(shape: str, rng: random.Random) -> Secret:
    if shape == "basic-auth":
        user, password = _field(rng, "w", 8), _field(rng, "a", 16)
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        return Secret(shape, f"Authorization: Basic {encoded}", (encoded, password))
    text, fragments = _expand(rng, SHAPES[shape])
    return Secret(shape, text, fragments)


ALL_SHAPES = (*SHAPES, "basic-auth", "project-pattern")
# The `secrets:` pattern the harness puts into ledger.yaml, matching "project-pattern".
PROJECT_PATTERN = "ACME-[A-Z0-9]{12}-INTERNAL"
SHAPES["project-pattern"] = "ACME-{A:12}-INTERNAL"


def plain_value(rng: random.Random) -> Secret:
    """A secret with no tell-tale shape: only the key it is stored under gives it away."""
    head, tail = _field(rng, "w", 6), _field(rng, "w", 14)
    return Secret("plain", f"{head}-{tail}", (f"{head}-{tail}", tail))
