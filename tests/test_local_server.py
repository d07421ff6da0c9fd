"""`make run`'s program as a person starts it: on another port its links and allowed origins
follow that port (unless set), a port already taken gets one clear line, not a traceback, and
`kill` (SIGTERM) stops it, and a burst of new connections waits its turn instead of being
dropped."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import requests

from localdev.embedded_aws import free_port
from tests.support import PROJECT
from tests.support.servers import serve_locally, served_process, wait_until_answering

FOLLOW_THE_PORT = {"PUBLIC_BASE_URL": None, "ALLOWED_ORIGINS": None}


def test_on_another_port_the_frontend_origin_works_and_links_point_to_it():
    port = free_port()
    origin = f"http://localhost:{port}"
    with serve_locally("embedded", FOLLOW_THE_PORT, port=port) as url:
        headers = {"Origin": origin, "X-Requested-With": "fetch"}
        signed_up = requests.post(f"{url}/v1/accounts", json={"email": "port@example.com",
                                                            "password": "a long enough passphrase 42"},
                                  headers=headers, timeout=30)
        assert signed_up.status_code == 202, signed_up.text
        mail = requests.get(f"{url}/_dev/mailbox", timeout=10).json()["messages"]
        assert mail[0]["links"][0].startswith(f"{origin}/verify-email#token=")
        # The IP form of this port is allowed too; the default port's origin is not.
        for allowed in (origin, f"http://127.0.0.1:{port}"):
            answer = requests.post(f"{url}/v1/login", json={"email": "port@example.com", "password": "x" * 12},
                                   headers={**headers, "Origin": allowed}, timeout=30)
            assert answer.json().get("error") != "origin_not_allowed"
        refused = requests.post(f"{url}/v1/login", json={"email": "port@example.com", "password": "x" * 12},
                                headers={**headers, "Origin": "http://localhost:8000"}, timeout=30)
        assert refused.status_code == 403 and refused.json()["error"] == "origin_not_allowed"


def test_a_port_in_use_gets_one_clear_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run([sys.executable, str(PROJECT / "localdev" / "serve.py"), "--port", str(port)],
                                  cwd=PROJECT, capture_output=True, text=True, timeout=120,
                                  env={k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "LOCAL_AWS")})
    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in finished.stderr
    assert "PORT=8101 make run" in finished.stderr


def test_sigterm_stops_the_server_on_the_embedded_aws_with_a_browser_connection_open():
    """As Ctrl-C does, with the embedded AWS holding data and a keep-alive connection open
    (the interpreter's own teardown of that data once made SIGTERM look ignored)."""
    import signal
    import tempfile

    port = free_port()
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("AWS_ENDPOINT_URL", "LOCAL_AWS", "PUBLIC_BASE_URL", "ALLOWED_ORIGINS")}
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen([sys.executable, str(PROJECT / "localdev" / "serve.py"), "--port", str(port)],
                                   cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_answering(url + "/openapi.json", process, log, "local server", timeout=180)
            browser = requests.Session()
            signed_up = browser.post(f"{url}/v1/accounts", json={"email": "term@example.com",
                                                                 "password": "a long enough passphrase 42"},
                                     headers={"Origin": f"http://localhost:{port}", "X-Requested-With": "fetch"},
                                     timeout=30)
            assert signed_up.status_code == 202, signed_up.text
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_the_favicon_is_served_and_unknown_api_paths_answer_in_the_api_error_shape():
    with serve_locally("embedded") as url:
        icon = requests.get(f"{url}/favicon.ico", timeout=10)
        assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/x-icon"
        assert icon.content[:4] == b"\x00\x00\x01\x00"   # an ICO file's header: reserved 0, type 1 (icon)
        assert '<link rel="icon" href="/favicon.ico"' in requests.get(f"{url}/login", timeout=10).text
        # As API Gateway answers with infra/app.json's gateway response, with or without a token.
        for method, headers in (("GET", {}), ("POST", {}), ("GET", {"Authorization": "Bearer nothing"})):
            unknown = requests.request(method, f"{url}/v1/nope", headers=headers, timeout=10)
            assert unknown.status_code == 404, unknown.text
            assert unknown.json() == {"error": "not_found", "message": "There is nothing at this path."}


def queued_connections(port: int) -> int:
    """How many connections wait in the accept queue of the socket listening on 127.0.0.1:`port`
    (/proc/net/tcp: a listening socket's rx_queue is its accept queue's length)."""
    for line in (Path("/proc/net/tcp").read_text().splitlines()[1:]):
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":   # 0A: LISTEN
            return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def test_a_burst_of_new_connections_is_queued_while_the_server_is_busy_and_then_served():
    """socketserver's default backlog of 5 made the kernel drop connections beyond the sixth
    while the process was busy: a load test saw failed requests, a browser can wait seconds."""
    import signal
    import time

    burst = 40
    with serve_locally("embedded") as url:
        port = int(url.rsplit(":", 1)[1])
        process = served_process(url)
        process.send_signal(signal.SIGSTOP)   # busy: accepts nothing, while the kernel queues
        connections = []
        try:
            for _ in range(burst):
                connection = socket.socket()
                connection.setblocking(False)
                connection.connect_ex(("127.0.0.1", port))
                connections.append(connection)
            deadline = time.monotonic() + 20   # a hang guard: loopback handshakes end at once
            while queued_connections(port) < burst and time.monotonic() < deadline:
                time.sleep(0.05)
            assert queued_connections(port) == burst
        finally:
            process.send_signal(signal.SIGCONT)
        for connection in connections:
            connection.setblocking(True)
            connection.settimeout(30)
            connection.sendall(b"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        for connection in connections:
            with connection, connection.makefile("rb") as answer:
                assert answer.readline().startswith(b"HTTP/1.1 200 ")
