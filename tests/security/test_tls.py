"""TLS: `najda serve --tls-cert/--tls-key` serves HTTPS and WSS with the given certificate
(a self-signed one, made here with openssl)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.harness import clean_env, free_port, najda_command
from tests.waiting import eventually

TOKEN = "Tls_" + "q8ZvN3xK7mR2pW5yB9cD4fG6hJ1kL0sT"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=najda",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_serve_speaks_https_and_wss_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    command = [*najda_command(), "serve", "--no-demo", "--port", str(port), "--data-dir",
               str(tmp_path / "data"), "--tls-cert", str(cert), "--tls-key", str(key)]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        command, env=clean_env(NAJDA_ADMIN_TOKEN=TOKEN), stdout=log, stderr=subprocess.STDOUT
    )
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        with httpx.Client(verify=trusted, timeout=5) as client:

            def answered() -> httpx.Response:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                return client.get(f"https://127.0.0.1:{port}/health")  # raises until it listens

            health = eventually(answered, timeout_s=60, interval_s=0.1)
            users = client.get(
                f"https://127.0.0.1:{port}/users", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        with pytest.raises(httpx.TransportError), httpx.Client(timeout=5) as plain:
            plain.get(f"http://127.0.0.1:{port}/health")  # no plain HTTP on a TLS port
        with connect(
            f"wss://127.0.0.1:{port}/ws/console",
            ssl=trusted,
            additional_headers={"Authorization": f"Bearer {TOKEN}"},
            open_timeout=10,
        ) as socket:
            hello = socket.recv(timeout=10)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    assert health.status_code == 200 and users.status_code == 200
    assert '"type":"hello"' in str(hello)
    assert f"https://127.0.0.1:{port}/" in (tmp_path / "server.log").read_text()
