"""Step-up: a fresh second factor on the current session. One generic challenge route, the
per-type ones kept beside it (they answer the same challenge in their older shapes), and
the verify step."""
from chalice import Blueprint

from chalicelib.api import models, push_models
from chalicelib.api.http import BROWSER, Reply, endpoint
from chalicelib.methods import push as push_method
from chalicelib.methods.push import PushMethod
from chalicelib.methods.sms import SmsMethod
from chalicelib.methods.webauthn import SecurityKeyMethod
from chalicelib.services import step_up
from chalicelib.services.push import challenges as push_challenges

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/step-up/challenges", "POST", summary="Begin the challenge of one of the account's "
          "methods for step-up: {type: none} for a code, WebAuthn request options, a push (its number) or a text",
          auth=BROWSER, body=models.ChallengeRequest, response=models.Challenge, status=201,
          errors=(400, 401, 403, 404, 409, 410, 429, 503))
def step_up_challenge(call):
    return Reply(models.Challenge(**step_up.challenge(call.session, call.body.method_id, call.client)).model_dump(),
                 201)


@endpoint(bp, "/v1/account/step-up/webauthn/options", "POST", summary="WebAuthn request options (a new "
          "challenge) for step-up on this session", auth=BROWSER, response=models.WebAuthnRequestOptions,
          errors=(401, 403, 409))
def step_up_webauthn_options(call):
    started = step_up.challenge(call.session, None, call.client, SecurityKeyMethod.type)
    return models.WebAuthnRequestOptions(**started).model_dump()


@endpoint(bp, "/v1/account/step-up/push", "POST", summary="Send a push request for step-up", auth=BROWSER,
          body=models.PushRequest, response=push_models.PushStarted, status=201, errors=(400, 401, 403, 404, 429))
def step_up_push(call):
    started = step_up.challenge(call.session, call.body.method_id, call.client, PushMethod.type)
    return Reply(push_models.PushStarted(**started).model_dump(), 201)


@endpoint(bp, "/v1/account/step-up/push/{challenge_id}", "GET", summary="A step-up push request's status",
          auth=BROWSER, response=push_models.PushStatus, errors=(401, 403, 404))
def step_up_push_status(call, challenge_id):
    return push_models.PushStatus(**push_method.status_of(call.session, challenge_id)).model_dump()


@endpoint(bp, "/v1/account/step-up/push/{challenge_id}", "DELETE", summary="Withdraw the session's step-up "
          "push request (Cancel): the app no longer lists it", auth=BROWSER, response=models.Ok,
          errors=(401, 403, 404, 409, 410))
def step_up_push_cancel(call, challenge_id):
    push_challenges.withdraw_at_step_up(call.session, challenge_id, call.client)
    return models.Ok().model_dump()


@endpoint(bp, "/v1/account/step-up/sms", "POST", summary="Text a step-up code to a legacy SMS method (before the "
          "sunset only)", auth=BROWSER, body=models.PushRequest, response=models.SmsCodeSent, status=201,
          errors=(400, 401, 403, 404, 410, 429))
def step_up_sms(call):
    started = step_up.challenge(call.session, call.body.method_id, call.client, SmsMethod.type)
    return Reply(models.SmsCodeSent(**started).model_dump(), 201)


@endpoint(bp, "/v1/account/step-up", "POST", summary="Verify a second factor again on this session",
          auth=BROWSER, body=models.SecondFactorProof, response=models.SteppedUp, errors=(400, 401, 403, 404, 429))
def step_up_session(call):
    at, used = step_up.step_up(call.session, call.body, call.client)
    return models.SteppedUp(mfa_at=at, step_up_valid_until=at + step_up.window_seconds(),
                            method_used=used).model_dump(exclude_none=True)
