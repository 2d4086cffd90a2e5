"""One redaction helper for every URL nbprod shows (nbprod.urls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbprod.urls import mask_secrets, redact

from ..conftest import run_json


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://u:hunter2@db:5432/x", "postgresql+psycopg://u:***@db:5432/x"),
    ("postgresql://u:hun/ter@2@db/x", "postgresql://u:***@db/x"),  # unencoded / and @
    ("postgresql://u:hunter2@db:notaport/x", "postgresql://u:***@db:notaport/x"),
    ("postgresql://u:hunter2@[::1/x", "postgresql://u:***@[::1/x"),  # urlsplit would raise
    ("postgresql://u@db/x", "postgresql://u@db/x"),
    ("s3://bucket/p?token=abc&region=x#frag", "s3://bucket/p?token=***&region=x#frag"),
    ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
    ("not a url at all", "not a url at all"),
    ("postgre sql:://u:hunter2@db/x", "postgre sql:://u:***@db/x"),
])
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert "hunter2" not in shown and mask_secrets(url) == (shown, url != shown)


@pytest.mark.parametrize("registry", [
    "postgresql://u:hunter2@db:notaport/x",       # make_url: ValueError
    "postgresql:://u:hunter2@db/x",               # make_url: ArgumentError
    "postgresql+nosuchdriver://u:hunter2@db/x",   # no such dialect
])
def test_a_bad_registry_url_is_shown_without_its_password(project_dir: Path,
                                                          registry: str) -> None:
    code, out = run_json(project_dir, "runs", env={"NBPROD_REGISTRY": registry})
    assert code in (2, 4), out
    message = out["error"]["message"]
    assert "hunter2" not in message and "***" in message, message
