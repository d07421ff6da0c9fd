from chalice import Blueprint

from chalicelib import errors
from chalicelib.api import models
from chalicelib.api.http import BROWSER, ENROLLMENT, FULL, QueryParam, Reply, clear_session_cookie, endpoint
from chalicelib.services import sessions

bp = Blueprint(__name__)


@endpoint(bp, "/v1/logout", "POST", summary="End the current session", auth=ENROLLMENT,
          response=models.Ok, errors=(401, 403))
def logout(call):
    sessions.logout(call.session)
    return Reply(models.Ok().model_dump(), 200, cookies=[clear_session_cookie()])


@endpoint(bp, "/v1/account/sessions", "GET", summary="List the account's sessions", auth=FULL,
          response=models.SessionList, errors=(401, 403))
def list_sessions(call):
    return models.SessionList(sessions=sessions.list_sessions(call.session)).model_dump()


@endpoint(bp, "/v1/account/sessions", "DELETE", summary="End every session but the current one "
          "(?scope=others; step-up required)", auth=BROWSER, response=models.SessionsRevoked, errors=(400, 401, 403),
          query=(QueryParam("scope", {"type": "string", "enum": ["others"]}, required=True,
                            description="which sessions to end: `others`, every one but this one"),))
def revoke_other_sessions(call):
    if (call.request.query_params or {}).get("scope") != "others":
        raise errors.invalid_request("Say which sessions to end: ?scope=others.")
    return models.SessionsRevoked(revoked=sessions.revoke_others(call.session, call.client)).model_dump()


@endpoint(bp, "/v1/account/sessions/{session_id}", "DELETE", summary="Revoke one session (another one "
          "needs step-up)", auth=BROWSER, response=models.Ok, errors=(401, 403, 404))
def revoke_session(call, session_id):
    sessions.revoke(call.session, session_id, call.client)
    return models.Ok().model_dump()
