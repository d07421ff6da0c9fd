from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import BROWSER, Reply, endpoint
from chalicelib.services import cli_login

bp = Blueprint(__name__)


@endpoint(bp, "/v1/cli/logins", "POST", summary="CLI: start a browser-approved login (RFC 8628 device "
          "authorization)", body=models.CliLoginStart, response=models.CliLoginStarted, status=201, errors=(400, 429))
def start(call):
    return Reply(models.CliLoginStarted(**cli_login.start(call.body.client_name, call.client)).model_dump(), 201)


@endpoint(bp, "/v1/cli/logins/token", "POST", summary="CLI: poll for the session token; RFC 8628 errors "
          "(authorization_pending, slow_down, access_denied, expired_token, invalid_grant) as 400",
          body=models.CliTokenRequest, response=models.CliToken, errors=(400,))
def token(call):
    session = cli_login.token(call.body.device_code, call.client)
    return models.CliToken(access_token=session.token, expires_at=session.expires_at).model_dump()


@endpoint(bp, "/v1/cli/logins/approve", "POST", summary="Browser: approve or deny a CLI login by its user code "
          "(a fresh second factor is required)", auth=BROWSER, body=models.CliLoginDecision,
          response=models.CliLoginDecided, errors=(400, 401, 403, 404, 409, 429))
def approve(call):
    status = cli_login.decide(call.session, call.body.user_code, call.body.decision == "approve", call.client)
    return models.CliLoginDecided(status=status).model_dump()


@endpoint(bp, "/v1/cli/logins/{user_code}", "GET", summary="Browser: which CLI asks (client name, IP, time)",
          auth=BROWSER, response=models.CliLoginDetails, errors=(401, 403, 404, 429))
def describe(call, user_code):
    return models.CliLoginDetails(**cli_login.describe(user_code, call.client)).model_dump()
