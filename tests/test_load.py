"""`make load` (load/): Locust in its own venv (build/load-venv, made by the target from
load/requirements.txt on its first run: 15 s of CPU, up to 2 minutes), driving logins
(password + TOTP) from two users for a few seconds against the served API on DynamoDB Local."""
import csv
import json
import subprocess
import time

from tests.support import PROJECT
from tests.support.http import ORIGIN
from tests.support.servers import serve_locally


def make_load(url: str, summary, **variables) -> tuple[dict, str]:
    arguments = [f"{name}={value}" for name, value in
                 {"URL": url, "USERS": 2, "DURATION": "4s", "ORIGIN": ORIGIN, "SUMMARY": summary, **variables}.items()]
    run = subprocess.run(["make", "--no-print-directory", "load", *arguments], cwd=PROJECT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return json.loads(summary.read_text()), run.stdout


def wait_until_the_accounts_have_a_code_left(accounts) -> None:
    """A TOTP code works once per 30 s step, and the service takes the next step's too: an
    account whose run crossed a step boundary has spent the next step's code, and logs in
    again only once that step has come (not a timing assumption: the clock the codes follow)."""
    with open(accounts, newline="") as saved:
        spent = max(int(row["used_step"]) for row in csv.DictReader(saved))
    time.sleep(max(spent * 30 - time.time(), 0))


def test_make_load_logs_in_with_accounts_it_creates_and_then_with_a_file_of_them(tmp_path):
    accounts = tmp_path / "accounts.csv"
    with serve_locally("dynamodb-local") as url:
        created, printed = make_load(url, tmp_path / "created.json", CREATE=4, SAVE_ACCOUNTS=accounts)
        wait_until_the_accounts_have_a_code_left(accounts)
        listed, _ = make_load(url, tmp_path / "listed.json", ACCOUNTS=accounts)

    for summary in (created, listed):
        assert summary["logins"] >= 2 and summary["errors"] == {}, summary
        assert summary["steps"]["password step"]["failures"] == summary["steps"]["verify step"]["failures"] == 0
        assert summary["steps"]["verify step"]["requests"] == summary["logins"]
        assert 0 < summary["total"]["p50_ms"] <= summary["total"]["p95_ms"] <= summary["total"]["p99_ms"]
    with open(accounts, newline="") as saved:
        assert [row["email"].startswith("load-") for row in csv.DictReader(saved)] == [True] * 4
    # The summary Locust's run ends with, beside its own tables.
    assert "== load summary" in printed and "errors by code: none" in printed
    assert "p50 ms" in printed and "p95 ms" in printed and "p99 ms" in printed
