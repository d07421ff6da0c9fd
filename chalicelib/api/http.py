"""What every route shares: body parsing, authentication with the CSRF check, JSON replies,
cookies, and the route table that /openapi.json is built from.

Routes declare themselves with `endpoint(...)` and receive a `Call`; they call a service
and return a `Reply` (or a dict for 200).
"""
import functools
import json
import logging
from typing import NamedTuple

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib import aws, crypto, errors, observability, passwords, sns
from chalicelib.api import invalid_fields, models
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.records import Client
from chalicelib.services import sessions
from chalicelib.store import Busy

log = logging.getLogger(__name__)

# What the layers below the services raise, and how the API answers it.
_DOMAIN_ANSWERS = {
    Busy: lambda error: errors.try_again(),
    aws.Unavailable: lambda error: errors.service_unavailable(get_settings().unavailable_retry_after_seconds),
    crypto.SecretUnreadable: lambda error: errors.secret_unavailable(),   # logged where it did not open
    passwords.PasswordRejected: lambda error: errors.password_rejected(error.reason, passwords.MIN_LENGTH,
                                                                       passwords.MAX_LENGTH),
    sns.PushUnavailable: lambda error: errors.push_unavailable(error.platform),
    sns.PushTokenRefused: lambda error: errors.invalid_push_token(error.platform, error.again),
}
DOMAIN_ERRORS = tuple(_DOMAIN_ANSWERS)


def from_domain(error: Exception) -> ApiError:
    answer = next(_DOMAIN_ANSWERS[kind] for kind in type(error).__mro__ if kind in _DOMAIN_ANSWERS)
    return answer(error)


def from_failure(error: Exception) -> ApiError | None:
    """How the API answers an exception a route let through: a domain error's answer; 429
    try_again for a write that met a concurrent transaction; 503 when AWS failed (a throttled,
    failing or unreachable service, after the retries); None for anything else, a bug, which
    stays a 500."""
    if isinstance(error, DOMAIN_ERRORS):
        return from_domain(error)
    if aws.is_conflict(error):
        return errors.try_again()
    if aws.is_outage(error):
        log.warning("AWS unavailable: %r", error)
        return errors.service_unavailable(get_settings().unavailable_retry_after_seconds)
    return None


PUBLIC = "public"
ENROLLMENT = "enrollment"   # any session, including a restricted one
FULL = "full"               # a session that has passed a second factor
# Control of the account's security (step-up, methods, recovery codes, ending sessions, the
# password, the email, deleting it): a browser's web session only. A stolen CLI token must not
# turn into permanent control (it cannot step up, so it cannot add a factor).
BROWSER = "browser"                        # as FULL, from a web session
BROWSER_ENROLLMENT = "browser_enrollment"  # as ENROLLMENT, from a web session
DEVICE = "device"           # a paired device's signed request (services/device_auth.py)
# An identity provider's answer, which the browser brings from the IdP's site (a SAML POST):
# no origin check; the answer's signature and the SSO request's browser cookie vouch for it.
IDP = "idp"
FORM = "application/x-www-form-urlencoded"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# NamedTuples and a plain class, not dataclasses: Python 3.12 compiles each dataclass's methods
# at import, ~1 ms apiece of every cold start.
class QueryParam(NamedTuple):
    """A query-string parameter a route reads, as /openapi.json declares it."""
    name: str
    schema: dict
    required: bool = False
    description: str = ""


class RouteSpec(NamedTuple):
    path: str
    method: str
    summary: str
    auth: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    content_type: str = "application/json"
    query: tuple[QueryParam, ...] = ()


ROUTES: list[RouteSpec] = []


class Reply(NamedTuple):
    body: dict | None
    status: int = 200
    headers: dict | None = None
    cookies: list[str] | None = None


class Call:
    """One request to a route: its Chalice request, parsed body and session."""

    def __init__(self, request, body: BaseModel | None, session: dict | None):
        self.request, self.body, self.session = request, body, session

    @property
    def login_browser(self) -> str | None:
        """The token of the login attempt this browser started (see services/login_attempts)."""
        return cookie_value(self.request, get_settings().login_cookie_name)

    @functools.cached_property
    def client(self) -> Client:
        headers = self.request.headers
        source_ip = ((self.request.context or {}).get("identity") or {}).get("sourceIp") or ""
        if get_settings().behind_cloudfront:
            # API Gateway's sourceIp is then CloudFront's edge, shared by many viewers.
            source_ip = viewer_ip(headers.get("cloudfront-viewer-address", "")) or source_ip
        # CloudFront's viewer location headers, when the API is behind it.
        place = ", ".join(p for p in (headers.get("cloudfront-viewer-city"),
                                       headers.get("cloudfront-viewer-country-region"),
                                       headers.get("cloudfront-viewer-country")) if p)
        return Client(ip=source_ip, user_agent=headers.get("user-agent", ""),
                      kind=headers.get("x-client", "").strip().lower(), location=place or None)


def viewer_ip(viewer_address: str) -> str | None:
    """The address of CloudFront-Viewer-Address ("198.51.100.10:46532", "2001:db8::1:46532"),
    without its port; None when it is not one."""
    import ipaddress

    host = viewer_address.strip().rpartition(":")[0].strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def json_response(status: int, body, headers: dict | None = None, cookies: list[str] | None = None) -> Response:
    all_headers = {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})}
    if cookies:
        all_headers["Set-Cookie"] = cookies  # a list: Chalice sends it as multiValueHeaders
    return Response(body=json.dumps(body) if body is not None else "", status_code=status, headers=all_headers)


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), error.headers)


def session_cookie(token: str, max_age: int) -> str:
    name = get_settings().session_cookie_name
    return f"{name}={token}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=Lax"


def clear_session_cookie() -> str:
    return session_cookie("", 0)


def cookie_for(session: sessions.NewSession) -> str:
    return session_cookie(session.token, session.record["absolute_expires_at"] - session.record["created_at"])


def issued(session: sessions.NewSession, enrollment_required: bool, method_used: dict | None = None) -> dict:
    """The body that reports a new session (SessionIssued)."""
    return models.SessionIssued(session_id=session.record["session_id"], kind=session.record["kind"],
                                expires_at=session.expires_at, enrollment_required=enrollment_required,
                                method_used=method_used).model_dump(exclude_none=True)


def _parse_body(request, model: type[BaseModel], content_type: str) -> BaseModel:
    raw = request.raw_body or b""
    try:
        if content_type == FORM:
            from urllib.parse import parse_qsl

            data = dict(parse_qsl(raw.decode("ascii"), max_num_fields=20))
        else:
            # No body at all is an empty object: POST /v1/logout and the like need none.
            data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise errors.malformed_json() from None
    if not isinstance(data, dict):
        raise errors.invalid_request("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_fields.refused(error) from None


def cookie_value(request, name: str) -> str | None:
    # Split by hand: SimpleCookie drops the whole header when any other cookie on the domain
    # is malformed, which would log the user out.
    for part in request.headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def login_cookie(token: str, max_age: int) -> str:
    name = get_settings().login_cookie_name
    return f"{name}={token}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=Strict"


def _token_from(request) -> tuple[str | None, str | None]:
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip(), sessions.CLI
    token = cookie_value(request, get_settings().session_cookie_name)
    return (token, sessions.WEB) if token else (None, None)


def _check_origin(request, required: bool) -> None:
    """CSRF defence for cookie-authenticated unsafe requests: the Origin must be one of the
    stage's and the X-Requested-With header must be present (a cross-site form cannot set
    it). Other unsafe requests are refused only when they come from a foreign origin."""
    origin = request.headers.get("origin")
    allowed = get_settings().allowed_origins
    if required:
        if origin is None or origin.rstrip("/") not in allowed or "x-requested-with" not in request.headers:
            raise errors.csrf_check_failed()
    elif origin is not None and origin.rstrip("/") not in allowed:
        raise errors.origin_not_allowed()


def _signed_path(request) -> str:
    """What the device signed: the route's path with its parameters, as the API defines it
    (/v1/...), whatever stage or custom-domain base path is in front. No query string."""
    path = (request.context or {}).get("resourcePath") or ""
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path


def _authenticate(request, auth: str) -> dict | None:
    unsafe = request.method in UNSAFE_METHODS
    if auth == DEVICE:
        from chalicelib.services import device_auth

        return device_auth.authenticate((request.uri_params or {}).get("device_id", ""), request.method,
                                        _signed_path(request), request.headers, request.raw_body or b"")
    if auth == IDP:
        return None
    token, kind = _token_from(request)
    if auth == PUBLIC:
        if unsafe:
            _check_origin(request, required=False)
        return None
    if token is None:
        raise errors.unauthenticated()
    if unsafe:
        _check_origin(request, required=(kind == sessions.WEB))
    session = sessions.authenticate(token, kind)
    if auth in (BROWSER, BROWSER_ENROLLMENT) and session["kind"] != sessions.WEB:
        raise errors.browser_session_required()
    if auth in (FULL, BROWSER) and session["restricted"]:
        raise errors.mfa_enrollment_required()
    return session


def endpoint(blueprint, path: str, method: str, *, summary: str, auth: str = PUBLIC,
             body: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             status: int = 200, errors: tuple[int, ...] = (), content_type: str = "application/json",
             query: tuple[QueryParam, ...] = ()):
    ROUTES.append(RouteSpec(path, method, summary, auth, body, response, status, errors, content_type, query))

    def decorator(view):
        @functools.wraps(view)
        def handler(**params):
            request = blueprint.current_request
            context = blueprint.lambda_context
            aws.use_time_left(getattr(context, "get_remaining_time_in_millis", None))
            try:
                session = _authenticate(request, auth)
                observability.note_account(session.get("account_id") if session else None)
                parsed = _parse_body(request, body, content_type) if body else None
                result = view(Call(request, parsed, session), **params)
            except ApiError as error:
                return error_response(error)
            except Exception as error:
                answer = from_failure(error)
                if answer is None:
                    raise
                return error_response(answer)
            finally:
                aws.use_time_left(None)
            if isinstance(result, Response):
                return result
            if isinstance(result, Reply):
                return json_response(result.status, result.body, result.headers, result.cookies)
            return json_response(status, result)

        blueprint.route(path, methods=[method], content_types=[content_type])(handler)
        return view

    return decorator
