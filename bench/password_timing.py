"""Whether the password step's time tells a known email from an unknown one: 200 pairs of
wrong-password requests, a known and an unknown email back to back (alternating which goes
first), in-process moto; prints both medians and their ratio (target: within 2%).

With --dynamodb-local, DynamoDB is DynamoDB Local (KMS and SES stay on moto): moto's own
answer to a read costs milliseconds more when it holds an item (its serialiser, in this
process), which DynamoDB's does not; in-process moto then tells the two apart by its own
work, DynamoDB Local by the service's. With --read, only the step's read is timed (the
store's call), finer than the whole request's noise.

    .venv/bin/python bench/password_timing.py [pairs] [--dynamodb-local] [--read]
"""
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from localdev import embedded_aws  # noqa: E402

STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]


def main(pairs: int, dynamodb_local: bool, read_only: bool) -> None:
    os.environ.update({**embedded_aws.LOCAL_CREDENTIALS, **STAGE, "LOCAL_AWS": "embedded",
                       "LOGIN_LIMIT_PER_EMAIL": "1000000", "LOGIN_LIMIT_PER_IP": "1000000"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with contextlib.ExitStack() as stack:
        if dynamodb_local:
            from localdev import servers

            server = servers.start_dynamodb_local()
            stack.callback(server.stop)
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.url
        run(pairs, "DynamoDB Local" if dynamodb_local else "moto", read_only)


def run(pairs: int, backend: str, read_only: bool) -> None:
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib import store
    from chalicelib.clock import now_s
    from localdev import mailbox

    embedded_aws.adapt_moto()
    with mock_aws():
        embedded_aws.provision(STAGE["TABLE_NAME"], STAGE["KMS_KEY_ID"], STAGE["MAIL_FROM"])
        http = Client(app, stage_name="local", project_dir=str(PROJECT)).http
        headers = {"content-type": "application/json", "origin": "http://localhost:8000", "x-requested-with": "x"}

        def read(email):
            started = time.perf_counter()
            store.get_account_and_domain(email, "example.com", now_s())
            return time.perf_counter() - started

        def post(path, body):
            started = time.perf_counter()
            response = http.request("POST", path, headers=headers, body=json.dumps(body).encode())
            return response, time.perf_counter() - started

        known = "timing@example.com"
        post("/v1/accounts", {"email": known, "password": "correct horse battery staple"})
        token = mailbox.messages()[0]["links"][0].split("token=")[1]
        post("/v1/accounts/verify-email", {"token": token})
        times = {"known": [], "unknown": []}
        for i in range(pairs + 5):
            order = [("known", known), ("unknown", "nobody@example.com")]
            for kind, email in order if i % 2 else reversed(order):
                if read_only:
                    took = read(email)
                else:
                    response, took = post("/v1/login", {"email": email, "password": "wrong password, long enough"})
                    assert response.status_code == 401, response.body
                if i >= 5:   # the first few warm up
                    times[kind].append(took)
    known_ms, unknown_ms = (statistics.median(times[k]) * 1000 for k in ("known", "unknown"))
    # A pair's two requests run under the same load (other work on the machine): their ratio
    # is steadier than the medians'.
    ratios = [k / u for k, u in zip(times["known"], times["unknown"], strict=True)]
    low, paired, high = statistics.quantiles(ratios, n=4)
    step = "password step's read" if read_only else "password step, wrong password"
    print(f"{step}, {pairs} pairs on {backend}: known email median {known_ms:.2f} ms, "
          f"unknown email median {unknown_ms:.2f} ms, ratio {known_ms / unknown_ms:.3f} (target 0.98-1.02); "
          f"per pair: median ratio {paired:.3f}, middle half {low:.3f}-{high:.3f}")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(arguments[0]) if arguments else 200, "--dynamodb-local" in sys.argv[1:], "--read" in sys.argv[1:])
