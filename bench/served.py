"""Logins over HTTP against `make run`'s program (localdev/serve.py), on the embedded moto
or with DynamoDB Local, with accounts seeded straight into its table (bench/seed.py)."""
import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import seed  # noqa: E402

from localdev.embedded_aws import LOCAL_CREDENTIALS, free_port  # noqa: E402

STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
# Many logins from one address and account in a few minutes: the rate limits are not measured here.
NO_LIMITS = {"LOGIN_LIMIT_PER_EMAIL": "1000000", "LOGIN_LIMIT_PER_IP": "1000000"}


class Served:
    def __init__(self, process, port: int, aws_port: int, log):
        self.process, self.port, self.log = process, port, log
        self.origin = f"http://localhost:{port}"
        self.aws_endpoint = f"http://127.0.0.1:{aws_port}"
        self.dynamodb_endpoint = self.aws_endpoint

    def memory_mib(self) -> tuple[float, float]:
        """The server process's resident memory now and at its peak, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        value = {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}
        return value["VmRSS"], value["VmHWM"]

    def use_its_aws(self) -> None:
        """Point this process's boto3 (and the project's clients) at the server's AWS."""
        import boto3

        from chalicelib import aws
        from chalicelib.config import get_settings
        from chalicelib.ledger import secrets

        os.environ.update({**LOCAL_CREDENTIALS, **STAGE, "AWS_ENDPOINT_URL": self.aws_endpoint,
                           "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint})
        boto3.DEFAULT_SESSION = None
        get_settings.cache_clear()
        aws.reset()
        secrets.forget_keys()   # the data keys of another server's table mean nothing here


@contextlib.contextmanager
def serve(mode: str):
    """localdev/serve.py with LOCAL_AWS=`mode` ("embedded" or "dynamodb-local") on free ports."""
    port, aws_port = free_port(), free_port()
    # Its links and allowed origins follow its port; its AWS is its own.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_ENDPOINT_URL") and k not in ("PUBLIC_BASE_URL", "ALLOWED_ORIGINS")}
    env.update(NO_LIMITS, LOCAL_AWS=mode, LOCAL_AWS_PORT=str(aws_port))
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log")
    process = subprocess.Popen([sys.executable, str(PROJECT / "localdev" / "serve.py"), "--port", str(port)],
                               cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    served = Served(process, port, aws_port, log)
    try:
        deadline = time.monotonic() + 180
        while not (f"API on http://127.0.0.1:{port} " in _read(log) and _answers(port)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"localdev/serve.py ({mode}) did not start:\n{_read(log)[-3000:]}")
            time.sleep(0.1)
        if mode == "dynamodb-local":
            served.dynamodb_endpoint = re.search(r"DynamoDB Local on (\S+)", _read(log)).group(1)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _read(log) -> str:
    # Through a file of its own: seeking the handle the server writes through would move the
    # server's write position too (one shared offset), and its next line would overwrite the log.
    return Path(log.name).read_text()


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/openapi.json")
        return connection.getresponse().status == 200
    except OSError:
        return False


class Browser:
    """One keep-alive connection, sending what the web frontend sends (its cookies too)."""

    def __init__(self, served: Served):
        self.served = served
        self.connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Origin": self.served.origin, "X-Requested-With": "bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = self.connection.getresponse()
        answer = json.loads(response.read() or b"{}")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return response.status, answer

    def login(self, number: int) -> tuple[float, float]:
        """Password step and TOTP verify of seeded account `number`: their seconds."""
        import pyotp

        self.cookies.clear()
        started = time.perf_counter()
        status, answer = self.post("/v1/login", {"email": seed.email_of(number), "password": seed.PASSWORD})
        password_done = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"password step: {status} {answer}")
        status, answer = self.post(f"/v1/login/{answer['login_id']}/verify",
                                   {"method_id": seed.method_id_of(number), "code": pyotp.TOTP(seed.TOTP_SECRET).now()})
        if status != 200:
            raise RuntimeError(f"TOTP verify: {status} {answer}")
        return password_done - started, time.perf_counter() - password_done
