from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import Reply, endpoint, login_cookie, session_cookie
from chalicelib.config import get_settings
from chalicelib.services import login


bp = Blueprint(__name__)


def issued(session, enrollment_required: bool, method_used: dict | None = None) -> dict:
    return models.SessionIssued(session_id=session.record["session_id"], kind=session.record["kind"],
                                expires_at=session.expires_at, enrollment_required=enrollment_required,
                                method_used=method_used).model_dump(exclude_none=True)


def cookie_for(session) -> str:
    return session_cookie(session.token, session.record["absolute_expires_at"] - session.record["created_at"])


@endpoint(bp, "/v1/login", "POST", summary="Password step: starts a login attempt (or, for an account "
          "without a verification method, a restricted enrolment session)",
          body=models.LoginRequest, response=models.LoginStarted, errors=(400, 401, 403))
def start_login(call):
    body, restricted, browser = login.start(call.body.email, call.body.password, call.client)
    cookies = [cookie_for(restricted)] if restricted else [
        login_cookie(browser, get_settings().login_attempt_seconds)]
    return Reply(models.LoginStarted(**body).model_dump(), 200, cookies=cookies)


@endpoint(bp, "/v1/login/{login_id}/webauthn/options", "POST", summary="WebAuthn request options (a new "
          "challenge) for the attempt's security keys and built-in authenticators",
          response=models.WebAuthnRequestOptions, errors=(404, 409, 410))
def login_webauthn_options(call, login_id):
    return models.WebAuthnRequestOptions(**login.webauthn_options(login_id, call.login_browser)).model_dump()


@endpoint(bp, "/v1/login/{login_id}/verify", "POST", summary="Second-factor step (a code, or a WebAuthn "
          "assertion): issues a web session",
          body=models.SecondFactorProof, response=models.SessionIssued, errors=(400, 401, 403, 404, 410, 429))
def verify_login(call, login_id):
    session, used = login.verify(login_id, call.body.method_id, call.body.proof(), call.client, call.login_browser)
    return Reply(issued(session, False, used), 200, cookies=[cookie_for(session)])
