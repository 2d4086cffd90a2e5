"""A real S3 for the store tests: a moto server on 127.0.0.1, started once per session.

Without ``moto[server]`` and ``s3fs`` (or if the server does not start) the S3 tests skip,
unless NBPROD_REQUIRE_SERVICES=1, where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from nbprod.store import FsspecStore, LocalStore, Store

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
               "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3:
    """The moto server's endpoint and the AWS_* environment that reaches it."""

    endpoint: str
    env: dict[str, str]

    def filesystem(self) -> Any:
        """An s3fs filesystem on the server, configured explicitly (not from os.environ)."""
        import s3fs

        return s3fs.S3FileSystem(key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                 secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                 endpoint_url=self.endpoint, skip_instance_cache=True,
                                 use_listings_cache=False)

    def _moto_api(self, action: str) -> str:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{action}",
                                         data=b"" if action != "download-recording" else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.read().decode())

    @contextmanager
    def requests(self) -> Iterator[list[tuple[str, str]]]:
        """The (method, path?query) of every S3 request made inside the block."""
        seen: list[tuple[str, str]] = []
        self._moto_api("reset-recording")
        self._moto_api("start-recording")
        try:
            yield seen
        finally:
            self._moto_api("stop-recording")
            for line in self._moto_api("download-recording").splitlines():
                entry = json.loads(line)
                parts = urllib.parse.urlsplit(entry["url"])
                seen.append((entry["method"], f"{parts.path}?{parts.query}".rstrip("?")))

    def new_bucket(self) -> str:
        name = f"nbprod-{secrets.token_hex(6)}"
        self.filesystem().mkdir(name)
        return name


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("NBPROD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"S3 (moto) is required but unavailable: {reason}")
    pytest.skip(f"no S3 for the tests: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(proc: subprocess.Popen[bytes], endpoint: str, timeout: float) -> str | None:
    """None once the server answers, else why not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"moto_server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                return None
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return f"moto_server did not answer on {endpoint} within {timeout:.0f}s"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """A moto S3 server for the whole session; stopped at the end."""
    try:
        import moto.server  # noqa: F401
        import s3fs  # noqa: F401
    except ImportError as exc:
        _unavailable(f"{exc} (pip install 'moto[server]' s3fs)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                cwd=log.parent,
                                env={**os.environ,
                                     "MOTO_RECORDER_FILEPATH": str(log.parent / "requests")})
    try:
        problem = _wait_until_up(proc, endpoint, timeout=30)
        if problem:
            _unavailable(f"{problem}: {log.read_text(errors='replace')[-500:]}")
        env = {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
               # never ask an instance-metadata address, nor read the user's AWS files
               "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": str(log.parent / "no-config"),
               "AWS_SHARED_CREDENTIALS_FILE": str(log.parent / "no-credentials")}
        yield S3(endpoint=endpoint, env=env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3(moto_server: S3, monkeypatch: pytest.MonkeyPatch) -> S3:
    """The moto server, with this test's environment pointing boto at it."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in moto_server.env.items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture
def bucket(s3: S3) -> str:
    """A new, empty bucket."""
    return s3.new_bucket()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The same contract, on a local folder and on S3 (moto)."""
    if request.param == "local":
        return LocalStore(tmp_path / "artifacts")
    bucket_name = request.getfixturevalue("bucket")
    return FsspecStore(f"s3://{bucket_name}/some/prefix")
