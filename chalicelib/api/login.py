from chalice import Blueprint

from chalicelib.api import models, push_models
from chalicelib.api.http import Reply, cookie_for, endpoint, issued, login_cookie
from chalicelib.config import get_settings
from chalicelib.methods.push import PushMethod
from chalicelib.methods.sms import SmsMethod
from chalicelib.methods.webauthn import SecurityKeyMethod
from chalicelib.services import login
from chalicelib.services.push import challenges as push_challenges

bp = Blueprint(__name__)


@endpoint(bp, "/v1/login", "POST", summary="Password step: starts a login attempt (or, for an account "
          "without a verification method, a restricted enrolment session)",
          body=models.LoginRequest, response=models.LoginStarted, errors=(400, 401, 403))
def start_login(call):
    body, restricted, browser = login.start(call.body.email, call.body.password, call.client)
    cookies = [cookie_for(restricted)] if restricted else [
        login_cookie(browser, get_settings().login_attempt_seconds)]
    return Reply(models.LoginStarted(**body).model_dump(), 200, cookies=cookies)


@endpoint(bp, "/v1/login/{login_id}/challenges", "POST", summary="Begin the challenge of one of the attempt's "
          "methods: {type: none} for a code, WebAuthn request options, a push (its number) or a text; then verify",
          body=models.ChallengeRequest, response=models.Challenge, status=201,
          errors=(400, 403, 404, 409, 410, 429, 503))
def login_challenge(call, login_id):
    started = login.challenge(login_id, call.body.method_id, call.client, call.login_browser)
    return Reply(models.Challenge(**started).model_dump(), 201)


@endpoint(bp, "/v1/login/{login_id}/webauthn/options", "POST", summary="WebAuthn request options (a new "
          "challenge) for the attempt's security keys and built-in authenticators",
          response=models.WebAuthnRequestOptions, errors=(404, 409, 410))
def login_webauthn_options(call, login_id):
    started = login.challenge(login_id, None, call.client, call.login_browser, method_type=SecurityKeyMethod.type)
    return models.WebAuthnRequestOptions(**started).model_dump()


@endpoint(bp, "/v1/login/{login_id}/push", "POST", summary="Send a push request to the account's mobile app: "
          "the browser shows `number`, valid 2 minutes", body=models.PushRequest,
          response=push_models.PushStarted, status=201, errors=(400, 403, 404, 410, 429))
def login_push(call, login_id):
    started = login.challenge(login_id, call.body.method_id, call.client, call.login_browser, PushMethod.type)
    return Reply(push_models.PushStarted(**started).model_dump(), 201)


@endpoint(bp, "/v1/login/{login_id}/push/{challenge_id}", "DELETE", summary="Withdraw the attempt's push "
          "request (Cancel): the app no longer lists it, it cannot be approved, and it no longer counts among the "
          "account's unanswered ones", response=models.Ok, errors=(403, 404, 409, 410))
def login_push_cancel(call, login_id, challenge_id):
    push_challenges.withdraw_at_login(login_id, call.login_browser, challenge_id, call.client)
    return models.Ok().model_dump()


@endpoint(bp, "/v1/login/{login_id}", "GET", summary="The login attempt's push status: pending, approved, "
          "denied or expired (poll this, then verify with the challenge_id)",
          response=push_models.PushStatus, errors=(404,))
def login_status(call, login_id):
    return push_models.PushStatus(**push_challenges.login_status(login_id, call.login_browser)).model_dump()


@endpoint(bp, "/v1/login/{login_id}/sms", "POST", summary="Text a 6-digit code to a legacy SMS method (before "
          "the SMS sunset only; 410 sms_sunset after), then verify it as a code",
          body=models.PushRequest, response=models.SmsCodeSent, status=201, errors=(400, 404, 410, 429))
def login_sms(call, login_id):
    sent = login.challenge(login_id, call.body.method_id, call.client, call.login_browser, SmsMethod.type)
    return Reply(models.SmsCodeSent(**sent).model_dump(), 201)


@endpoint(bp, "/v1/login/{login_id}/verify", "POST", summary="Second-factor step (a code, or a WebAuthn "
          "assertion, or an approved push): issues a web session",
          body=models.SecondFactorProof, response=models.SessionIssued, errors=(400, 401, 403, 404, 410, 429))
def verify_login(call, login_id):
    session, used = login.verify(login_id, call.body, call.client, call.login_browser)
    return Reply(issued(session, False, used), 200, cookies=[cookie_for(session)])
