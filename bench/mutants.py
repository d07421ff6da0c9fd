"""Mutants of the security conditions: proof that their tests fail every time a rule is broken.

    .venv/bin/python bench/mutants.py [--runs 10] [--only NAME ...] [--list]

Each entry of MUTANTS names one rule and breaks it by exact source-text replacements (a
`condition=` clause dropped or made always true, a check inverted) in a throwaway copy of
the project (the shared .venv and build/ symlinked; the real tree is never edited). The
tests named for it then run `--runs` times in one pytest process (bench/repeat_plugin.py),
with no cache and no bytecode kept, and must fail in every run. A DynamoDB condition is
made always true as `(X OR NOT X)` rather than deleted when deleting it would leave a
placeholder unused (DynamoDB refuses that, which would fail the test for another reason).

Prints a table (rule, files, tests, runs failed / runs) and exits non-zero when a mutant
survives any run, when a replacement no longer matches the source exactly once (the list
must follow the code: tests/test_mutants.py checks that in the normal suite), or when the
named tests do not pass on the unmutated copy.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Not copied: version control, caches, and the shared environments (symlinked instead).
SKIPPED = (".git", ".venv", "build", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules")
LINKED = (".venv", "build")
TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class Edit:
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]


def _always(term: str) -> str:
    """A DynamoDB condition term made always true, its placeholders still used."""
    return f"({term} OR NOT {term})"


# The single-use email token's delete, made to pass when the token is already gone.
_TOKEN_ONCE = Edit("chalicelib/store/accounts.py",
                   'condition="attribute_exists(PK) AND expires_at > :now"',
                   'condition="(attribute_exists(PK) AND expires_at > :now) OR NOT attribute_exists(PK)"')
# op_use_method's counter: a TOTP step, an emailed code's serial, a WebAuthn signature count.
_COUNTER = Edit("chalicelib/store/methods.py",
                'condition += " AND (attribute_not_exists(#c) OR #c < :c)"', 'condition += ""')

MUTANTS = (
    # ------------------------------------------------ one-time things
    Mutant("TOTP step accepted once", (_COUNTER,),
           ("tests/test_login.py::test_two_simultaneous_verifications_of_the_same_code",)),
    Mutant("emailed code accepted once", (_COUNTER,),
           ("tests/test_email_code.py::test_a_code_used_twice_at_once_counts_once",)),
    Mutant("recovery code used once",
           (Edit("chalicelib/store/methods.py", 'condition += " AND contains(#set, :member)"',
                 f'condition += " AND {_always("contains(#set, :member)")}"'),),
           ("tests/test_recovery_codes.py::test_a_code_used_twice_concurrently_succeeds_once",)),
    Mutant("push: the first answer wins",
           (Edit("chalicelib/store/push.py", 'condition="#status = :pending AND answer_by > :now"',
                 f'condition="{_always("#status = :pending")} AND answer_by > :now"'),),
           ("tests/test_push.py::test_the_first_answer_wins",)),
    Mutant("push: an approval is used once",
           (Edit("chalicelib/store/push.py", 'condition="#status = :approved"',
                 f'condition="{_always("#status = :approved")}"'),),
           ("tests/test_push.py::test_a_used_push_approval_cannot_step_up_again",)),
    Mutant("push: pending and hourly limits hold under concurrency",
           (Edit("chalicelib/store/push.py", 'condition, values = "version = :read"',
                 f'condition, values = "{_always("version = :read")}"'),),
           ("tests/test_push.py::test_two_push_requests_at_once_cannot_both_take_the_last_pending_slot",)),
    Mutant("CLI device code yields one token",
           (Edit("chalicelib/store/cli_logins.py", 'condition="#status = :approved AND expires_at > :now"',
                 f'condition="{_always("#status = :approved")} AND expires_at > :now"'),),
           ("tests/test_one_time_rules.py::test_an_approved_device_code_yields_one_token_to_two_polls_at_once",)),
    Mutant("CLI login decided once",
           (Edit("chalicelib/store/cli_logins.py", "#status = :pending AND expires_at > :now",
                 f"{_always('#status = :pending')} AND expires_at > :now"),),
           ("tests/test_one_time_rules.py::test_a_cli_login_is_decided_once_by_two_browsers_at_once",)),
    # A verification link is held by its token (used once) and by the account it makes (made
    # only while the address is unverified, live and pending): only with all gone could it
    # verify twice.
    Mutant("email verification link used once (token and account guards)",
           (Edit("chalicelib/store/accounts.py",
                 'condition="attribute_exists(PK) AND expires_at > :now AND attribute_not_exists(used_at)")',
                 'condition="attribute_exists(PK) AND expires_at > :now")'),
            Edit("chalicelib/store/accounts.py",
                 'condition="email_verified = :f AND expires_at > :now AND pending_since <= :made")',
                 f'condition="{_always("email_verified = :f")} AND {_always("expires_at > :now")} AND '
                 f'{_always("pending_since <= :made")}")')),
           ("tests/test_one_time_rules.py::test_a_verification_link_used_twice_at_once_verifies_once",)),
    # A change link is also held by the move itself (the old item goes once, the new address
    # is taken once): only with every guard gone could one link move the account twice.
    Mutant("email change link moves the account once (token, link, old item and new address guards)",
           (_TOKEN_ONCE,
            Edit("chalicelib/store/accounts.py", 'condition="account_id = :a AND email_change_token = :h"',
                 f'condition="{_always("account_id = :a")} AND {_always("email_change_token = :h")}"'),
            Edit("chalicelib/store/accounts.py",
                 'condition="attribute_not_exists(PK) OR expires_at <= :now OR email_verified = :false"',
                 'condition="attribute_not_exists(PK) OR attribute_exists(PK) OR expires_at <= :now '
                 'OR email_verified = :false"'),
            Edit("chalicelib/services/email_address.py",
                 '            or account.get("email_change_token") != token_hash):', "            ):")),
           ("tests/test_one_time_rules.py::test_an_email_change_link_used_twice_at_once_moves_the_account_once",)),
    Mutant("password reset link used once (token and account guards)",
           (_TOKEN_ONCE,
            Edit("chalicelib/store/passwords.py",
                 'condition="account_id = :a AND reset_token_hash = :t AND reset_expires_at > :now"',
                 f'condition="account_id = :a AND {_always("reset_token_hash = :t")}"')),
           ("tests/test_passwords.py::test_a_reset_link_works_once_even_racing",)),
    Mutant("only the newest reset link works",
           (Edit("chalicelib/store/passwords.py",
                 'condition="account_id = :a AND reset_token_hash = :t AND reset_expires_at > :now"',
                 f'condition="account_id = :a AND {_always("reset_token_hash = :t")} AND '
                 f'{_always("reset_expires_at > :now")}"'),),
           ("tests/test_passwords.py::test_the_newest_reset_link_wins",)),
    Mutant("pairing code pairs one phone (code and device guards)",
           (Edit("chalicelib/store/push.py", 'condition="attribute_exists(PK) AND expires_at > :now"',
                 'condition="(attribute_exists(PK) AND expires_at > :now) OR NOT attribute_exists(PK)"'),
            Edit("chalicelib/store/push.py", " AND attribute_not_exists(device_id)", "")),
           ("tests/test_one_time_rules.py::test_a_pairing_code_pairs_one_phone_even_when_two_use_it_at_once",)),
    Mutant("WebAuthn challenge answers one login try",
           (Edit("chalicelib/store/login_attempts.py", '"ADD tries :one, try_ids :ids" + _removal(takes)',
                 '"ADD tries :one, try_ids :ids"'),),
           ("tests/test_webauthn.py::test_a_login_challenge_answers_one_verification_only",)),
    Mutant("a try takes only the challenge it read",
           (Edit("chalicelib/store/engine.py", 'return " AND #taken = :taken"',
                 'return " AND (#taken = :taken OR NOT #taken = :taken)"'),),
           ("tests/test_webauthn.py::test_a_try_takes_only_the_challenge_it_read",)),
    Mutant("WebAuthn challenge answers one step-up",
           (Edit("chalicelib/store/sessions.py", '"ADD step_up_tries :one, step_up_try_ids :ids" + _removal(takes)',
                 '"ADD step_up_tries :one, step_up_try_ids :ids"'),),
           ("tests/test_one_time_rules.py::test_a_webauthn_step_up_challenge_answers_once_even_twice_at_once",)),
    Mutant("login attempt used once",
           (Edit("chalicelib/store/login_attempts.py",
                 'condition="attribute_exists(PK) AND used = :false AND expires_at > :now"',
                 f'condition="attribute_exists(PK) AND {_always("used = :false")} AND expires_at > :now"'),),
           ("tests/test_login.py::test_attempt_is_single_use_even_with_two_right_codes_at_once",)),
    Mutant("signed device request: nonce used once",
           (Edit("chalicelib/store/push.py", 'ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now"',
                 'ConditionExpression="attribute_not_exists(PK) OR attribute_exists(PK) OR expires_at <= :now"'),),
           ("tests/test_push.py::test_replayed_stale_and_forged_signatures_are_refused",)),
    Mutant("a new recovery-code set replaces only the set read",
           (Edit("chalicelib/store/methods.py", 'condition += "generation = :old" if replaces',
                 f'condition += "{_always("generation = :old")}" if replaces'),),
           ("tests/test_recovery_codes.py::test_a_regeneration_racing_another_one_is_refused",)),
    Mutant("SAML answer accepted once (request and assertion guards)",
           (Edit("chalicelib/store/sso.py", "AND used = :false AND expires_at > :now AND browser_hash = :b",
                 f"AND {_always('used = :false')} AND expires_at > :now AND browser_hash = :b"),
            Edit("chalicelib/store/sso.py", 'condition="attribute_not_exists(PK) OR expires_at <= :now", values',
                 'condition="attribute_not_exists(PK) OR attribute_exists(PK) OR expires_at <= :now", values')),
           ("tests/test_sso_saml.py::test_the_request_is_used_once_even_when_the_second_post_comes_while_the_first_is_finishing",)),
    # ------------------------------------------------ counters and limits
    Mutant("limits: a request refused by one limit counts on none",
           (Edit("chalicelib/ledger/limits.py", "        refund_quietly(window, at, *(h for h, failure in zip(",
                 "        (lambda *_: None)(window, at, *(h for h, failure in zip("),),
           ("tests/test_login.py::test_a_password_step_refused_by_one_limit_counts_on_none",)),
    Mutant("SSO enforced since the password step ends the login at the verify read",
           (Edit("chalicelib/services/login.py", "    if enforced and domain:\n", "    if False:\n"),),
           ("tests/test_sso_enforcement.py::test_enforcement_ends_a_login_at_the_verify_read_before_its_try_counts",)),
    Mutant("lockout: one try at a time per account",
           (Edit("chalicelib/store/limits.py", 'condition = "version = :read OR version = :mine"',
                 f'condition = "{_always("version = :read")} OR version = :mine"'),
            Edit("chalicelib/store/limits.py", 'condition = "attribute_not_exists(PK) OR version = :mine"',
                 f'condition = "{_always("attribute_not_exists(PK)")} OR version = :mine"')),
           ("tests/test_login.py::test_a_burst_of_parallel_guesses_cannot_pass_the_lockout",)),
    Mutant("lockout: the delay is enforced",
           (Edit("chalicelib/services/lockout.py", "    if wait > 0:\n", "    if False:\n"),),
           ("tests/test_login.py::test_account_lockout_with_increasing_delays_and_email",)),
    Mutant("lockout: the threshold try sets the delay",
           (Edit("chalicelib/services/lockout.py",
                 "locked_until = now + delay_for(count) if count >= get_settings().lockout_threshold else None",
                 "locked_until = None"),),
           ("tests/test_login.py::test_account_lockout_with_increasing_delays_and_email",)),
    Mutant("lockout: hard lock at 100 failures",
           (Edit("chalicelib/services/lockout.py", 'if lockout.get("failures", 0) >= s.hard_lock_failures:',
                 'if lockout.get("failures", 0) < 0:'),),
           ("tests/test_login.py::test_hard_lock_after_100_consecutive_failures",)),
    Mutant("login attempt: five tries",
           (Edit("chalicelib/store/login_attempts.py", "AND expires_at > :now AND tries < :max",
                 f"AND expires_at > :now AND {_always('tries < :max')}"),
            Edit("chalicelib/services/login.py",
                 'if login_attempts.is_over(attempt) or attempt["tries"] >= get_settings().login_attempt_max_failures:',
                 "if login_attempts.is_over(attempt):")),
           ("tests/test_login.py::test_attempt_dies_after_five_failures",)),
    Mutant("step-up: five tries per session",
           (Edit("chalicelib/store/sessions.py", "(attribute_not_exists(step_up_tries) OR step_up_tries < :max)",
                 f"(attribute_not_exists(step_up_tries) OR {_always('step_up_tries < :max')})"),
            Edit("chalicelib/services/step_up.py", 'if session.get("step_up_tries", 0) >= s.step_up_max_failures:',
                 "if False:")),
           ("tests/test_methods.py::test_step_up_ends_the_session_after_five_wrong_codes",)),
    Mutant("push pairing: five phrase tries",
           (Edit("chalicelib/store/methods.py", "(attribute_not_exists(confirm_tries) OR confirm_tries < :max)",
                 f"(attribute_not_exists(confirm_tries) OR {_always('confirm_tries < :max')})"),),
           ("tests/test_push.py::test_a_wrong_phrase_is_refused_and_five_end_the_pairing",)),
    Mutant("rate limit counters",
           (Edit("chalicelib/store/limits.py", 'condition="attribute_not_exists(hits) OR hits < :limit"',
                 f'condition="attribute_not_exists(hits) OR {_always("hits < :limit")}"'),),
           ("tests/test_login.py::test_password_guessing_is_rate_limited_per_email",)),
    Mutant("CLI token polls: the interval",
           (Edit("chalicelib/store/cli_logins.py", "(attribute_not_exists(next_poll_at) OR next_poll_at <= :now)",
                 f"(attribute_not_exists(next_poll_at) OR {_always('next_poll_at <= :now')})"),),
           ("tests/test_cli_login.py::test_slow_down_when_polling_faster_than_the_interval",)),
    # ------------------------------------------------ account rules
    Mutant("the last primary method stays",
           (Edit("chalicelib/store/accounts.py", 'condition += " AND primary_methods > :one"',
                 f'condition += " AND {_always("primary_methods > :one")}"'),),
           ("tests/test_methods.py::test_concurrent_removal_of_the_last_two_methods_leaves_one",)),
    Mutant("one account per email",
           (Edit("chalicelib/store/accounts.py",
                 'condition="attribute_not_exists(PK) OR email_verified = :f OR expires_at <= :now")',
                 'condition="attribute_not_exists(PK) OR attribute_exists(PK) OR email_verified = :f '
                 'OR expires_at <= :now")'),),
           ("tests/test_accounts.py::test_existing_email_gets_same_answer_and_owner_is_told",)),
    Mutant("a login begun before a reset cannot complete after it",
           (Edit("chalicelib/store/passwords.py",
                 "(attribute_not_exists(password_generation) OR password_generation = :g)",
                 f"(attribute_not_exists(password_generation) OR {_always('password_generation = :g')})"),),
           ("tests/test_passwords.py::test_a_login_begun_before_a_reset_cannot_be_completed_after_it",)),
    Mutant("push: the typed number must match",
           (Edit("chalicelib/services/push/challenges.py",
                 'return (PushStatus.APPROVED, None) if right else (PushStatus.DENIED, "wrong_number")',
                 'return (PushStatus.APPROVED, None)'),),
           ("tests/test_push.py::test_deny_and_wrong_number_both_refuse_the_login",)),
    Mutant("a WebAuthn credential is registered on one account",
           (Edit("chalicelib/store/methods.py",
                 '"method_id": method_id},\n                   condition="attribute_not_exists(PK)")',
                 '"method_id": method_id})'),),
           ("tests/test_webauthn.py::test_a_credential_registered_on_one_account_cannot_be_registered_on_another",)),
    Mutant("the password step needs a verified email",
           (Edit("chalicelib/services/login.py", 'if not account["email_verified"]:', "if False:"),),
           ("tests/test_accounts.py::test_unverified_account_cannot_pass_password_step",)),
    # ------------------------------------------------ sessions and requests
    Mutant("a login attempt is completed only in its own browser",
           (Edit("chalicelib/store/login_attempts.py", '"AND browser_hash = :browser AND account_id = :account")',
                 f'"AND {_always("browser_hash = :browser")} AND account_id = :account")'),),
           ("tests/test_infra_failures.py::test_a_login_try_is_counted_only_on_the_attempt_of_the_account_its_token_names",)),
    Mutant("a login try counts on the attempt of the account its token names (whose lockout was read)",
           (Edit("chalicelib/store/login_attempts.py", '"AND browser_hash = :browser AND account_id = :account")',
                 f'"AND browser_hash = :browser AND {_always("account_id = :account")}")'),),
           ("tests/test_infra_failures.py::test_a_login_try_is_counted_only_on_the_attempt_of_the_account_its_token_names",)),
    Mutant("step-up needs a browser session",
           (Edit("chalicelib/services/step_up.py", 'if session.get("kind") != "web":', "if False:"),),
           ("tests/test_browser_only.py::test_the_step_up_service_itself_refuses_a_cli_session",)),
    Mutant("signed device requests: the timestamp is recent",
           (Edit("chalicelib/services/device_auth.py",
                 "if abs(int(timestamp) - n) > get_settings().device_signature_skew_seconds:", "if False:"),),
           ("tests/test_push.py::test_replayed_stale_and_forged_signatures_are_refused",)),
    Mutant("step-up freshness",
           (Edit("chalicelib/services/step_up.py", "mfa_at is None or now_s() - mfa_at > window_seconds()",
                 "mfa_at is None"),),
           ("tests/test_methods.py::test_step_up_window_is_configurable",)),
    Mutant("expiry checked on read (a session past its expiry)",
           (Edit("chalicelib/store/engine.py", "if expires_at is not None and expires_at <= now:",
                 "if expires_at is not None and expires_at < 0:"),),
           ("tests/test_sessions.py::test_expired_session_is_refused_before_ttl_deletes_it",)),
    Mutant("origin check: a foreign origin is refused",
           (Edit("chalicelib/api/http.py", 'elif origin is not None and origin.rstrip("/") not in allowed:',
                 "elif False:"),),
           ("tests/test_sessions.py::test_foreign_origin_cannot_post_to_public_routes",)),
    Mutant("CSRF check: cookie requests need X-Requested-With",
           (Edit("chalicelib/api/http.py", ' or "x-requested-with" not in request.headers:', ":"),),
           ("tests/test_sessions.py::test_csrf_check_on_cookie_authenticated_unsafe_requests",)),
)


def drift(root: Path = PROJECT) -> list[str]:
    """Every replacement that no longer matches its file exactly once (or changes nothing)."""
    problems = []
    for mutant in MUTANTS:
        for edit in mutant.edits:
            path = root / edit.path
            count = path.read_text().count(edit.old) if path.exists() else 0
            if count != 1 or edit.old == edit.new:
                problems.append(f"{mutant.name}: {edit.path} has {count} matches for {edit.old!r}")
    return problems


def _copy(into: Path) -> Path:
    """The project as it is now, without caches, its environments linked."""
    repo = into / "repo"
    shutil.copytree(PROJECT, repo, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
    for name in LINKED:
        if (PROJECT / name).exists():
            (repo / name).symlink_to((PROJECT / name).resolve())
    return repo


def _apply(repo: Path, edits: tuple[Edit, ...]) -> None:
    for edit in edits:
        path = repo / edit.path
        text = path.read_text()
        assert text.count(edit.old) == 1, f"{edit.path}: {edit.old!r}"
        path.write_text(text.replace(edit.old, edit.new))


@dataclass
class Outcome:
    failed_runs: int
    runs: int
    note: str = ""
    first_failure: str = ""


def _run_tests(repo: Path, tests: tuple[str, ...], runs: int) -> Outcome:
    """Runs the tests `runs` times in the copy: how many runs had a failure."""
    report = repo / ".repeat-report.json"
    # Wide enough for pytest's summary to say why a test failed (--why).
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(repo / "bench"), "COLUMNS": "240"}
    command = [str(repo / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "repeat_plugin", "--repeat-runs", str(runs), "--repeat-report", str(report), *tests]
    try:
        done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return Outcome(0, runs, f"timed out after {TIMEOUT_SECONDS} s")
    output = done.stdout + done.stderr
    if not report.exists() or done.returncode not in (0, 1):
        # Collection errors, no tests found: nothing was learnt about the rule.
        return Outcome(0, runs, f"pytest exited {done.returncode}: {output.strip().splitlines()[-1:]}")
    outcomes = json.loads(report.read_text())
    failed = set(outcomes["failed"])
    ran = failed | set(outcomes["passed"])
    if len(ran) != runs:
        return Outcome(len(failed), runs, f"only {len(ran)} of {runs} runs ran")
    if "ValidationException" in output:
        # A malformed expression fails the test for the wrong reason: the mutant is invalid.
        return Outcome(len(failed), runs, "DynamoDB refused the mutated expression (ValidationException)")
    first = next((line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))), "")
    return Outcome(len(failed), runs, first_failure=first)


def _in_copy(edits: tuple[Edit, ...], tests: tuple[str, ...], runs: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        repo = _copy(Path(tmp))
        _apply(repo, edits)
        return _run_tests(repo, tests, runs)


def _table(rows: list[tuple[Mutant, Outcome]]) -> str:
    header = ("rule", "files", "tests", "killed", "")
    lines = [header]
    for mutant, outcome in rows:
        files = ", ".join(sorted({e.path.removeprefix("chalicelib/") for e in mutant.edits}))
        tests = ", ".join(t.removeprefix("tests/") for t in mutant.tests)
        lines.append((mutant.name, files, tests, f"{outcome.failed_runs}/{outcome.runs}",
                      outcome.note or ("ok" if outcome.failed_runs == outcome.runs else "SURVIVED")))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each mutant's tests (default 10)")
    parser.add_argument("--only", action="append", default=[], help="only rules whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the rules and exit")
    parser.add_argument("--why", action="store_true", help="print each mutant's first failure (to check the reason)")
    args = parser.parse_args(argv)
    # Stopped from outside: unwind, so the running pytest is killed and the copy removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    problems = drift()
    if problems:
        print("The mutant list no longer matches the source:", *problems, sep="\n  ")
        return 2
    chosen = [m for m in MUTANTS if not args.only or any(o.lower() in m.name.lower() for o in args.only)]
    if args.list:
        print("\n".join(m.name for m in chosen))
        return 0
    started = time.monotonic()
    every_test = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
    print(f"baseline: {len(every_test)} tests once on the unmutated copy ...", flush=True)
    baseline = _in_copy((), every_test, 1)
    if baseline.failed_runs or baseline.note:
        print(f"the tests do not pass without a mutant: {baseline.note or 'a test failed'}")
        return 3
    rows = []
    for number, mutant in enumerate(chosen, 1):
        began = time.monotonic()
        outcome = _in_copy(mutant.edits, mutant.tests, args.runs)
        rows.append((mutant, outcome))
        print(f"[{number}/{len(chosen)}] {mutant.name}: {outcome.failed_runs}/{outcome.runs} runs failed"
              f"{' - ' + outcome.note if outcome.note else ''} ({time.monotonic() - began:.0f} s)", flush=True)
        if args.why and outcome.first_failure:
            print(f"    {outcome.first_failure}", flush=True)
    print()
    print(_table(rows))
    survivors = [m.name for m, o in rows if o.note or o.failed_runs != o.runs]
    print(f"\n{len(rows) - len(survivors)} of {len(rows)} mutants killed in every run "
          f"({time.monotonic() - started:.0f} s)")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
