"""Settings per stage, read from the environment that `.chalice/config.json` sets.

Read lazily (never at import) and cached; tests change the environment and call
`get_settings.cache_clear()`.

A plain class, not a pydantic model: building the schema of ~90 fields cost every cold start
~10 ms, for values read once. Each value set is parsed by its annotation (an integer, a date,
a comma-separated list...) and checked against its bound; a wrong one raises pydantic's
ValidationError naming it, as a model would.
"""
import copy
import os
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal, get_args, get_origin
from urllib.parse import urlsplit

# What a served stage must set explicitly (the defaults below are the local stage's).
REQUIRED = ("stage", "table_name", "kms_key_id", "allowed_origins", "rp_id", "public_base_url")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class AtLeast:
    """`Annotated[int, AtLeast(n)]`: a setting that may not be set below n."""

    def __init__(self, minimum: int):
        self.minimum = minimum


class Settings:
    # No default: a deployment that forgets STAGE is not the local stage (it is refused).
    stage: str = ""
    table_name: str = "mfa-local"
    kms_key_id: str = "alias/mfa-local"
    mail_from: str = "no-reply@mfa.localhost"
    # Where links in emails point (the web frontend's origin).
    public_base_url: str = "http://localhost:8000"
    # Origins allowed for CORS and for the CSRF check on cookie-authenticated requests.
    allowed_origins: tuple[str, ...] = ("http://localhost:8000", "http://127.0.0.1:8000")
    service_name: str = "MFA Service"
    # WebAuthn relying party (security keys, built-in authenticators): the RP ID is the
    # registrable domain the frontend runs on, the name is what authenticators show.
    rp_id: str = "localhost"
    rp_name: str = "MFA Service"

    # argon2id, never below OWASP's minimum (m=19 MiB, t=2, p=1).
    argon2_memory_kib: Annotated[int, AtLeast(19456)] = 19456
    argon2_time_cost: Annotated[int, AtLeast(2)] = 2
    argon2_parallelism: Annotated[int, AtLeast(1)] = 1

    web_session_idle_seconds: int = 24 * 3600
    web_session_max_seconds: int = 10 * 24 * 3600
    cli_session_seconds: int = 30 * 24 * 3600
    # A password-only session of an account that must still enrol a method.
    enrollment_session_seconds: int = 3600
    # The sliding expiry is written at most once per this interval.
    session_touch_seconds: int = 300
    session_cookie_name: str = "__Host-mfa_session"
    # Binds a login attempt to the browser that made the password step (SameSite=Strict).
    login_cookie_name: str = "__Host-mfa_login"

    login_attempt_seconds: int = 300
    login_attempt_max_failures: int = 5
    email_token_seconds: int = 24 * 3600
    pending_method_seconds: int = 15 * 60

    # Second-factor lockout per account (NIST 800-63B 5.2.2).
    lockout_threshold: int = 10
    lockout_base_delay_seconds: int = 60
    lockout_max_delay_seconds: int = 3600
    hard_lock_failures: int = 100
    # Support's reset of every verification method (ops.recovery reset-mfa) waits this long;
    # a successful second factor meanwhile cancels it.
    mfa_reset_wait_seconds: int = 72 * 3600

    # Adding/removing/renaming methods, recovery codes and revoking sessions need a second
    # factor verified this recently; step-up allows this many wrong proofs per session.
    step_up_seconds: int = 600
    step_up_max_failures: int = 5

    # "stream": notices are sent by the DynamoDB Streams handler; "inline": right after the
    # write (the local stage, where no stream handler runs).
    outbox_delivery: Literal["stream", "inline"] = "stream"
    # The sweeper (the `outbox_sweeper` Lambda, every 5 minutes) re-sends notices still pending
    # this long after they were written. A sender claims a notice for `outbox_lease_seconds`
    # before mailing it: nobody else sends it meanwhile, and a sender that crashed leaves it to
    # the next try once the lease is over (longer than any one send, aws.call_budget_seconds).
    outbox_pending_after_seconds: Annotated[int, AtLeast(0)] = 600
    outbox_lease_seconds: Annotated[int, AtLeast(30)] = 120
    # The stream consumer's on-failure destination (infra/template.json's OutboxDeadLetterQueue):
    # what `python -m ops.outbox status|redrive` reads.
    outbox_dead_letter_queue_url: str = ""

    # Password step: guesses per fixed window, per email and per IP. Sign-up (each sends an
    # email): per email and per IP.
    login_window_seconds: int = 600
    login_limit_per_email: int = 20
    login_limit_per_ip: int = 200
    signup_window_seconds: int = 3600
    signup_limit_per_email: int = 5
    signup_limit_per_ip: int = 50
    # Password resets: the emailed link's life; requests (each sends an email) per window,
    # per email and per IP.
    password_reset_seconds: int = 3600
    password_reset_window_seconds: int = 3600
    password_reset_limit_per_email: int = 5
    password_reset_limit_per_ip: int = 50

    # CLI login (RFC 8628 device authorization).
    cli_login_seconds: int = 600
    cli_poll_interval_seconds: int = 5
    # CLI login starts per IP, and user-code guesses (lookups and decisions) per IP, per fixed
    # window. In total, lookups of codes that do not exist (misses) are limited service-wide
    # (a sharded counter): a correct code costs no budget, so spending it takes
    # USER_CODE_MISS_LIMIT_GLOBAL / USER_CODE_LIMIT_PER_IP addresses per window (5,000), and
    # 100,000 guesses among 20^8 codes find a live one about once in 250,000 windows.
    user_code_window_seconds: int = 600
    cli_login_start_limit_per_ip: int = 20
    user_code_limit_per_ip: int = 20
    user_code_miss_limit_global: int = 100_000
    # A rate limit above this many hits per window is counted on ceil(limit / this) items
    # (shards) of floor(limit / shards) hits each, one picked at random per hit: no item of a
    # busy counter (a NAT's per-IP count, the global user-code budget) takes more writes per
    # window than DynamoDB lets one item take in a second (1,000 WCU; a hit in a transaction
    # costs 2), and the total never exceeds the limit (docs/scaling.md).
    limit_hits_per_shard: int = 500

    # Push approval: SNS platform applications per stage (APNs for iOS, FCM for Android).
    apns_platform_application_arn: str = ""
    fcm_platform_application_arn: str = ""
    push_challenge_seconds: int = 120
    push_pending_limit: int = 3          # unanswered push challenges per account
    push_hourly_limit: int = 10          # push challenges per account per hour
    push_fraud_block_seconds: int = 3600   # no push requests for an account after "this wasn't me"
    device_pairing_limit_per_ip: int = 20   # pairing attempts per IP per 10 minutes
    # Signed device requests: allowed clock difference.
    device_signature_skew_seconds: int = 300

    # SMS is deprecated: legacy SMS methods log in only before this date (00:00 UTC).
    sms_sunset: date = date(2021, 11, 30)
    # ... and only for users who had SMS two-factor before this date.
    sms_legacy_cutoff: date = date(2021, 1, 1)
    sms_code_seconds: int = 300
    sms_limit_per_hour: int = 5

    # Single sign-on: a request sent to an identity provider is answered within this time,
    # once, by the browser that started it (bound by this cookie); SAML times may differ by
    # the skew; the IdP's metadata and JWKS are fetched with this timeout.
    sso_request_seconds: int = 600
    sso_clock_skew_seconds: int = 120
    sso_cookie_name: str = "__Host-mfa_sso"
    # Each start writes a request: per IP, per login window (a company's NAT logs many in).
    sso_start_limit_per_ip: int = 200

    # Every AWS call: attempts (botocore's standard mode; SES is tried once, the outbox sends
    # again) of at most these timeouts. A call starts only when the Lambda invocation has time
    # for all of them (chalicelib/aws.py); a failing dependency answers 503 with this Retry-After.
    aws_attempts: Annotated[int, AtLeast(1)] = 2
    aws_connect_timeout_seconds: float = 1.0
    aws_read_timeout_seconds: float = 2.0
    unavailable_retry_after_seconds: int = 5

    max_body_bytes: int = 64 * 1024
    # The API is reached only through CloudFront, whose origin request policy forwards
    # CloudFront-Viewer-Address: per-IP limits, audit events and notices use the viewer's
    # address from it instead of API Gateway's sourceIp (CloudFront's edge). Leave it off when
    # callers can reach the API Gateway stage directly: they could send any address.
    behind_cloudfront: bool = False
    # Verification methods that are off unless named here (comma-separated), e.g. email_code:
    # weaker than the others, a stage opts in.
    optional_methods: tuple[str, ...] = ()

    # Where boto3 sends calls (AWS_ENDPOINT_URL and its per-service AWS_ENDPOINT_URL_*), and
    # LOCAL_AWS=embedded: moto in this process (tests; `make run` also sets an endpoint).
    aws_endpoints: tuple[str, ...] = ()
    local_aws: str = ""
    # Set by the Lambda runtime (not by `chalice local` or the test client): a deployed function.
    aws_lambda_function_name: str = ""

    def __init__(self, **values):
        """The defaults, with `values` (strings from the environment, or values) parsed and
        checked; `fields_set` names those given."""
        problems, annotations = [], type(self).__annotations__
        for name, value in values.items():
            try:
                if name not in annotations:
                    raise ValueError("unknown setting")
                setattr(self, name, _parsed(annotations[name], value))
            except (TypeError, ValueError) as error:
                problems.append({"type": "value_error", "loc": (name,), "input": value, "ctx": {"error": error}})
        if problems:
            from pydantic import ValidationError

            raise ValidationError.from_exception_data(type(self).__name__, problems)
        self.allowed_origins = tuple(origin.rstrip("/") for origin in self.allowed_origins)
        self.fields_set = frozenset(values)

    def replace(self, **changes) -> "Settings":
        """A copy with these values (not parsed: tests swap in a value)."""
        changed = copy.copy(self)
        changed.__dict__.update(changes)
        return changed

    @property
    def local_endpoint(self) -> bool:
        """Every AWS call goes to this machine: endpoints on a loopback address, or moto
        embedded in this process."""
        if self.aws_endpoints:
            return all(urlsplit(url).hostname in LOOPBACK_HOSTS for url in self.aws_endpoints)
        return self.local_aws == "embedded"

    @property
    def local_development(self) -> bool:
        """The dev-only features (/_dev/ routes, the inline outbox) need both an explicit
        STAGE=local and a local AWS: a deployment that lacks either never serves them."""
        return (self.stage == "local" and "stage" in self.fields_set and self.local_endpoint
                and not self.aws_lambda_function_name)

    @property
    def dev_mailbox_enabled(self) -> bool:
        return self.local_development

    @property
    def inline_outbox(self) -> bool:
        return self.outbox_delivery == "inline" and self.local_development

    def missing(self) -> list[str]:
        """The environment variables a served stage lacks or sets wrongly, named as they are
        set: each of REQUIRED explicitly, and https:// for the public URL and every allowed
        origin except in the local stage off Lambda (`make run`, also with LOCAL_AWS=real).
        Empty when the stage can serve."""
        problems = [name.upper() for name in REQUIRED if name not in self.fields_set or not getattr(self, name)]
        if self.stage != "local" or self.aws_lambda_function_name:
            if "PUBLIC_BASE_URL" not in problems and not self.public_base_url.startswith("https://"):
                problems.append("PUBLIC_BASE_URL (https://)")
            if "ALLOWED_ORIGINS" not in problems and not all(o.startswith("https://") for o in self.allowed_origins):
                problems.append("ALLOWED_ORIGINS (https://)")
        return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    values = {}
    for name in Settings.__annotations__:
        env_value = os.environ.get(name.upper())
        if env_value is not None:
            values[name] = env_value
    values["aws_endpoints"] = tuple(value for name, value in sorted(os.environ.items()) if value and (
                                    name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_")))
    return Settings(**values)


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _parsed(annotation, value):
    """`value` as the annotation's type (from its text when it is a string), within its bounds."""
    kind, *bounds = get_args(annotation) if get_origin(annotation) is Annotated else (annotation,)
    if isinstance(value, str):
        if kind is bool:
            value = _BOOLEANS.get(value.strip().lower(), value)
        elif kind in (int, float):
            value = kind(value)
        elif kind is date:
            value = date.fromisoformat(value.strip())
        elif get_origin(kind) is tuple:
            value = tuple(part.strip() for part in value.split(",") if part.strip())
    if get_origin(kind) is Literal:
        if value not in get_args(kind):
            raise ValueError(f"not one of {get_args(kind)}")
    elif not isinstance(value, get_origin(kind) or kind):
        raise TypeError(f"not a {getattr(kind, '__name__', kind)}")
    for bound in bounds:
        if value < bound.minimum:
            raise ValueError(f"below {bound.minimum}")
    return value
