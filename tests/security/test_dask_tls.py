"""A sweep on a Dask scheduler and worker that speak only TLS (``tls://``, dask_tls)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import require, run_json, stop_processes

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _certificates(folder: Path) -> dict[str, Path]:
    """A CA and a certificate for 127.0.0.1 that it signed (scheduler, worker and client)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("nbprod test CA"))
          .issuer_name(name("nbprod test CA")).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca_file": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca_file"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


@pytest.fixture
def tls_cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    require(shutil.which("dask", path=str(BIN)) is not None, "the dask command (dev extra)")
    files = _certificates(tmp_path)
    tls = ["--tls-ca-file", str(files["ca_file"]), "--tls-cert", str(files["cert"]),
           "--tls-key", str(files["key"])]
    env = {**os.environ, "NBPROD_WARM": "0"}
    log = (tmp_path / "dask.log").open("ab")
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--protocol", "tls", "--host",
                               "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file), *tls],
                              env=env, stdout=log, stderr=log, cwd=tmp_path)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, (tmp_path / "dask.log").read_text()
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tls://")
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--no-nanny",
                                       "--nthreads", "1", "--no-dashboard", "--host",
                                       "127.0.0.1", *tls],
                                      env=env, stdout=log, stderr=log, cwd=tmp_path))
        yield address, files
    finally:
        stop_processes(procs)
        log.close()


def test_a_sweep_over_tls(project_dir: Path, tls_cluster: tuple[str, dict[str, Path]]) -> None:
    address, files = tls_cluster
    settings = project_dir / "nbprod.toml"
    settings.write_text(settings.read_text() + "[dask_tls]\n" + "".join(
        f'{k} = "{v}"\n' for k, v in files.items()))
    code, report = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1,2",
                            "--executor", "dask", "--dask-scheduler", address,
                            env={"NBPROD_SECRET_TOKEN": "tls-only-5150"})
    assert code == 0, report
    assert report["counts"] == {"succeeded": 2}
    assert sorted(p["values"]["x2"] for p in report["points"]) == [2, 4]


def test_tls_address_without_certificates_is_one_clear_line(
        project_dir: Path, tls_cluster: tuple[str, dict[str, Path]]) -> None:
    address, _files = tls_cluster
    code, report = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1",
                            "--executor", "dask", "--dask-scheduler", address)
    assert code == 2, report
    assert "dask_tls" in report["error"]["message"]
