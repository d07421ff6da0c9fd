"""Servers that tests run against, and their gating: the served API (`make run`'s program,
localdev/serve.py) and the real local servers (DynamoDB Local, LocalStack) that `make
servers` installs. A missing real server fails the run in CI and skips its tests, loudly,
elsewhere."""
import contextlib
import os
import sys
from urllib.parse import urlsplit

import pytest

from tests.support import PROJECT
from tests.support.http import ORIGIN


def require_real_servers(kind: str) -> None:
    """DynamoDB Local / LocalStack are installed by `make servers` (part of `make test`).
    Missing ones fail the run in CI and are skipped, loudly, elsewhere."""
    from localdev import servers as local_servers

    try:
        local_servers.dynamodb_local_dir()
        if kind == "localstack":
            local_servers.localstack_python()
    except local_servers.NotInstalled as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{kind}: {missing}")
        pytest.skip(f"NOT TESTED AGAINST {kind.upper()}: {missing}")


@contextlib.contextmanager
def real_server(kind: str):
    """DynamoDB Local ("dynamodb-local") or LocalStack ("localstack") running, then stopped."""
    require_real_servers(kind)
    from localdev import servers as local_servers

    start = {"dynamodb-local": local_servers.start_dynamodb_local, "localstack": local_servers.start_localstack}[kind]
    server = start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def serve_locally(mode: str = "embedded", env: dict | None = None, port: int | None = None):
    """`make run`'s program (localdev/serve.py) on a free port, with LOCAL_AWS=`mode`
    ("embedded", "dynamodb-local", "localstack": the real servers a mode needs are required);
    yields its base URL on 127.0.0.1 and stops it (and any real servers it started)."""
    import subprocess
    import tempfile

    from localdev.embedded_aws import free_port

    if mode != "embedded":
        require_real_servers(mode)
    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "LOCAL_AWS")}
    # The suite's clients send the local stage's usual origin (tests.support.http.ORIGIN),
    # whatever port the server got; a test of the port-following defaults unsets them (a None
    # value in `env` removes the variable).
    environment.update(PUBLIC_BASE_URL=ORIGIN, ALLOWED_ORIGINS=f"{ORIGIN},http://127.0.0.1:8000")
    environment.update(env or {}, LOCAL_AWS=mode)
    for name in [name for name, value in environment.items() if value is None]:
        del environment[name]
    # A file, not a pipe: a pipe nobody reads stalls the server once its request log fills it.
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, str(PROJECT / "localdev" / "serve.py"), "--port", str(port)],
                               cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
    _served[port] = process, log
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/openapi.json", process, log, "local server", timeout=180)
        yield url
    finally:
        stop(process, timeout=30)
        del _served[port]
        log.close()


# The served APIs of this process by port: their process and log file.
_served: dict = {}


def served_process(url: str):
    """The process serving `url` (started by serve_locally)."""
    return _served[urlsplit(url).port][0]


def log_tail(url: str, lines: int = 60) -> str:
    """The last `lines` lines the server of `url` (started by serve_locally) printed."""
    port = urlsplit(url).port
    if port not in _served:
        return f"(no server of this process on port {port})"
    log = _served[port][1]
    # pread leaves the file's offset alone: the server process writes at it.
    size = os.fstat(log.fileno()).st_size
    text = os.pread(log.fileno(), size, 0).decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def stop(process, timeout: float) -> None:
    """Terminate, and kill what does not end within `timeout` seconds."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_answering(url: str, process, log, name: str, timeout: float) -> None:
    """Until GET `url` answers 200; a process that exits or a timeout fails with its log."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"{name} did not start:\n" + log.read())
        time.sleep(0.05)


@contextlib.contextmanager
def served_on_localhost(env: dict | None = None):
    """The served API on embedded moto, allowing its own origin http://localhost:PORT, which
    it yields: WebAuthn refuses an IP address for the RP ID `localhost`."""
    from localdev.embedded_aws import free_port

    port = free_port()
    origin = f"http://localhost:{port}"
    with serve_locally("embedded", {"ALLOWED_ORIGINS": origin, "PUBLIC_BASE_URL": origin, **(env or {})}, port=port):
        yield origin
