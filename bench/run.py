"""`make bench`: what a login costs, as ratios from one run (medians of several repetitions,
with their spread: the lowest and highest repetition), printed as a Markdown table.

- cold start: a new process importing the app and serving its first POST /v1/login, against a
  bare Chalice app serving one GetItem (bench/cold_start.py);
- AWS calls per step: DynamoDB calls and round trips, KMS, SES, request units (bench/calls.py);
- the password and verify steps over HTTP on DynamoDB Local against their floor: one argon2
  verify plus as many plain boto3 GetItem calls as the step has round trips, in this run;
- `make run`'s login (embedded moto) at 100 and at 10,000 accounts, against DynamoDB Local,
  and the server's memory (the three take turns login by login, so all see the same load);
- the Lambda zip (build/package/STAGE/deployment.zip, built when missing);
- the cost of a million successful logins (bench/costs.py).

    .venv/bin/python bench/run.py [--accounts 10000] [--repetitions 3] [--logins 7] [--stage dev]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

import calls  # noqa: E402
import cold_start  # noqa: E402
import costs  # noqa: E402
import seed  # noqa: E402
import served  # noqa: E402

PASSWORD_STEP, VERIFY_STEP = "password step", "TOTP verify + session"
# Logins before the measured ones: DynamoDB Local's JVM keeps getting faster for a while.
WARM_UP = 10
REPORTED_STEPS = (PASSWORD_STEP, VERIFY_STEP, "wrong TOTP code", "recovery code + session", "wrong password",
                  "unknown email", "GET sessions (authenticated read)")


class Repeated:
    """Per-repetition medians of a measurement."""

    def __init__(self, medians: list[float]):
        self.medians = medians

    @classmethod
    def of(cls, repetitions: list[list[float]]) -> "Repeated":
        return cls([statistics.median(samples) for samples in repetitions])

    @property
    def median(self) -> float:
        return statistics.median(self.medians)

    def ms(self) -> str:
        return f"{self.median * 1000:.0f} ms ({min(self.medians) * 1000:.0f}–{max(self.medians) * 1000:.0f})"

    def ratio(self, base: "Repeated") -> str:
        each = [a / b for a, b in zip(self.medians, base.medians, strict=True)]
        return f"{self.median / base.median:.2f}× ({min(each):.2f}–{max(each):.2f})"


def cold_starts(repetitions: int) -> dict[str, Repeated]:
    """Import and first request of the app and of the bare app, against one moto server."""
    from localdev import embedded_aws

    saved = dict(os.environ)
    try:
        os.environ.update({**embedded_aws.LOCAL_CREDENTIALS, **calls.STAGE, **served.NO_LIMITS})
        server = embedded_aws.start_moto()
        try:
            for name, value in embedded_aws.provision(calls.STAGE["TABLE_NAME"], calls.STAGE["KMS_KEY_ID"],
                                                      calls.STAGE["MAIL_FROM"]).items():
                os.environ[name] = value
            _reset_clients()
            from chalicelib import aws, passwords

            seed.seed_accounts(0, 1, passwords.hash_password(seed.PASSWORD))
            aws.client("dynamodb").put_item(TableName=calls.STAGE["TABLE_NAME"],
                                            Item={"PK": {"S": "bare"}, "SK": {"S": "bare"}})
            env = dict(os.environ, BENCH_ORIGIN="http://localhost:8000",
                       BENCH_LOGIN=json.dumps({"email": seed.email_of(0), "password": seed.PASSWORD}))
            times = cold_start.measure(repetitions, env, PROJECT)
        finally:
            server.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _reset_clients()
    return {f"{kind} {moment}": Repeated([t[moment] for t in times[kind]])
            for kind in times for moment in ("import", "first_request")}


def _reset_clients() -> None:
    import boto3

    from chalicelib import aws
    from chalicelib.config import get_settings

    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    aws.reset()


class Floor:
    """The least each step could take here: one argon2 verify (the password step) and its
    round trips as plain GetItem calls to the same DynamoDB Local, from this process."""

    def __init__(self, server: served.Served, round_trips: dict[str, int]):
        import boto3

        from chalicelib import passwords

        self.round_trips, self.verify_password = round_trips, passwords.verify_password
        self.password_hash = passwords.hash_password(seed.PASSWORD)
        self.dynamodb = boto3.client("dynamodb", endpoint_url=server.dynamodb_endpoint)
        self.key = {"PK": {"S": "bench-floor"}, "SK": {"S": "bench-floor"}}
        self.dynamodb.put_item(TableName=calls.STAGE["TABLE_NAME"], Item={**self.key, "payload": {"S": "x" * 400}})

    def login(self) -> tuple[float, float]:
        started = time.perf_counter()
        self.verify_password(self.password_hash, seed.PASSWORD)
        self._get_items(self.round_trips[PASSWORD_STEP])
        password_done = time.perf_counter()
        self._get_items(self.round_trips[VERIFY_STEP])
        return password_done - started, time.perf_counter() - password_done

    def _get_items(self, count: int) -> None:
        for _ in range(count):
            self.dynamodb.get_item(TableName=calls.STAGE["TABLE_NAME"], Key=self.key)


def alternating_logins(runs: dict, numbers: list[int], repetitions: int,
                       warm_up: int = WARM_UP) -> dict[str, dict[str, Repeated]]:
    """Each of `runs` (name: a login function of an account number) in turn for each account
    of `numbers` (a TOTP code is accepted once per account), so that all see the same load
    on the machine; after `warm_up` logins (the first numbers), in `repetitions` groups."""
    for number in numbers[:warm_up]:
        for login in runs.values():
            login(number)
    measured = numbers[warm_up:]
    size = len(measured) // repetitions
    found = {name: {"password": [], "verify": [], "login": []} for name in runs}
    for group in range(repetitions):
        times = {name: [] for name in runs}
        for number in measured[group * size:(group + 1) * size]:
            for name, login in runs.items():
                times[name].append(login(number))
        for name, samples in times.items():
            found[name]["password"].append([p for p, _ in samples])
            found[name]["verify"].append([v for _, v in samples])
            found[name]["login"].append([p + v for p, v in samples])
    return {name: {step: Repeated.of(samples) for step, samples in steps.items()} for name, steps in found.items()}


def served_logins(accounts: int, round_trips: dict[str, int], logins: int, repetitions: int) -> dict:
    """`make run`'s login on the embedded moto at 100 accounts and at `accounts`, each time
    alternating with the same login on DynamoDB Local (100 accounts) and with its floor."""
    from chalicelib import passwords

    per_size = logins * repetitions + WARM_UP
    sizes = sorted({min(100, accounts), accounts})
    if len(sizes) * per_size > sizes[0]:
        raise SystemExit(f"{sizes[0]} accounts are too few for {len(sizes)} x {per_size} logins")
    password_hash = passwords.hash_password(seed.PASSWORD)
    results = {}
    with served.serve("dynamodb-local") as local, served.serve("embedded") as embedded:
        for server in (local, embedded):
            server.use_its_aws()
            seed.seed_accounts(0, sizes[0], password_hash)
        floor = Floor(local, round_trips)
        runs = {"DynamoDB Local": served.Browser(local).login, "floor": lambda number: floor.login(),
                "embedded": served.Browser(embedded).login}
        seeded = sizes[0]
        for index, size in enumerate(sizes):
            embedded.use_its_aws()
            seed.seed_accounts(seeded, size - seeded, password_hash)
            seeded = size
            numbers = list(range(index * per_size, (index + 1) * per_size))
            results[size] = {**alternating_logins(runs, numbers, repetitions), "memory": embedded.memory_mib()}
    return results


def package_zip(stage: str) -> Path:
    deployment = PROJECT / "build" / "package" / stage / "deployment.zip"
    if not deployment.exists():
        subprocess.run(["make", "package", f"STAGE={stage}"], cwd=PROJECT, check=True, stdout=subprocess.DEVNULL)
    return deployment


def lambda_memory_mb(stage: str) -> int:
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    return int(config["stages"][stage].get("lambda_memory_size", config.get("lambda_memory_size", 128)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--logins", type=int, default=10, help="logins per repetition")
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--stage", default="dev", help="the stage whose zip and Lambda memory are measured")
    parser.add_argument("--skip-package", action="store_true", help="no zip (nor `make package` to build it)")
    args = parser.parse_args()
    started = time.monotonic()
    lines: list[str] = []

    def say(line: str = "") -> None:
        lines.append(line)
        print(line, flush=True)

    steps = {cost.name: cost for cost in calls.measure_steps()}
    round_trips = {name: steps[name].round_trips for name in (PASSWORD_STEP, VERIFY_STEP)}
    starts = cold_starts(args.cold_starts)
    logins = served_logins(args.accounts, round_trips, args.logins, args.repetitions)

    say(f"### `make bench`, {datetime.date.today().isoformat()}")
    say()
    say(f"Medians of {args.repetitions} repetitions ({args.logins} logins each; {args.cold_starts} cold starts), "
        "the lowest and highest repetition in brackets.")
    say()
    say("| what | measured | ratio |")
    say("|---|---|---|")
    for moment, label in (("import", "import"), ("first_request", "first POST /v1/login served")):
        app, bare = starts[f"app {moment}"], starts[f"bare {moment}"]
        say(f"| cold start: process start → {label} | {app.ms()} vs bare Chalice app {bare.ms()} | "
            f"{app.ratio(bare)} |")
    first = logins[min(logins)]
    for step, name in (("password", PASSWORD_STEP), ("verify", VERIFY_STEP)):
        measured, floor = first["DynamoDB Local"][step], first["floor"][step]
        what = "one argon2 verify + " if step == "password" else ""
        say(f"| {name} over HTTP, DynamoDB Local | {measured.ms()} vs floor {floor.ms()} "
            f"({what}{round_trips[name]} GetItem) | {measured.ratio(floor)} |")
    for size, result in logins.items():
        rss, peak = result["memory"]
        login, reference = result["embedded"]["login"], result["DynamoDB Local"]["login"]
        say(f"| `make run` (embedded moto) login at {size:,} accounts | {login.ms()}, server {rss:.0f} MiB "
            f"(peak {peak:.0f}) vs DynamoDB Local {reference.ms()} | {login.ratio(reference)} |")
    say()
    say("| step | status | DynamoDB calls | round trips | KMS | SES | WRU | RRU |")
    say("|---|---|---|---|---|---|---|---|")
    for name in REPORTED_STEPS:
        cost = steps[name]
        say(f"| {name} | {cost.status} | {cost.dynamodb} | {cost.round_trips} | {cost.kms} | {cost.ses} | "
            f"{cost.wru:g} | {cost.rru:g} |")
    login = [steps[PASSWORD_STEP], steps[VERIFY_STEP]]
    usage = costs.LoginUsage(requests=2, seconds=first["DynamoDB Local"]["login"].median, memory_mb=lambda_memory_mb(args.stage),
                             wru=sum(c.wru for c in login), rru=sum(c.rru for c in login),
                             kms=sum(c.kms for c in login), ses=sum(c.ses for c in login))
    say()
    say(f"Write units per successful login: {usage.wru:g} WRU (transactions count double), {usage.rru:g} RRU.")
    if not args.skip_package:
        deployment = package_zip(args.stage)
        with zipfile.ZipFile(deployment) as archive:
            members = sorted(archive.infolist(), key=lambda m: m.compress_size, reverse=True)
        say()
        built = datetime.datetime.fromtimestamp(deployment.stat().st_mtime, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        say(f"Zip `{deployment.relative_to(PROJECT)}` (built {built}): {deployment.stat().st_size / 2 ** 20:.1f} MiB, "
            f"{len(members)} files; largest (compressed): " + ", ".join(
                f"{m.filename} {m.compress_size / 1024:.0f} KiB" for m in members[:5]))
    say()
    say(f"Cost of 1M successful logins (Lambda at the {args.stage} stage's {usage.memory_mb} MB, both steps "
        f"{usage.seconds * 1000:.0f} ms as measured on DynamoDB Local), {costs.PRICES_AS_OF}:")
    say()
    say("| item | quantity | USD | price |")
    say("|---|---|---|---|")
    for item, quantity, usd, price in costs.million_logins(usage):
        say(f"| {item} | {quantity} | {usd:.2f} | {price} |")
    say()
    say(f"(bench ran {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
