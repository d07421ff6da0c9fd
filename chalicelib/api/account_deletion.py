from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import BROWSER, Reply, clear_session_cookie, endpoint
from chalicelib.api.models import Body, Ok
from chalicelib.services import account_deletion

bp = Blueprint(__name__)


class DeleteAccountRequest(Body):
    confirm: bool = Field(False, description="must be true: deletion is permanent")


@endpoint(bp, "/v1/account", "DELETE", summary="Delete the account for good (step-up and {\"confirm\": true} "
          "required): methods, devices, sessions and tokens go, the email is free, a notice is mailed",
          auth=BROWSER, body=DeleteAccountRequest, response=Ok, errors=(400, 401, 403, 429))
def delete_account(call):
    account_deletion.delete(call.session, call.body.confirm, call.client)
    return Reply(Ok().model_dump(), 200, cookies=[clear_session_cookie()])
