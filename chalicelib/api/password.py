from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api import password_models as pm
from chalicelib.api.http import BROWSER, Reply, endpoint
from chalicelib.services import password

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/password", "POST", summary="Change the password (step-up required); ends every "
          "other session", auth=BROWSER, body=pm.ChangePasswordRequest, response=pm.PasswordChanged,
          errors=(400, 401, 403))
def change_password(call):
    ended = password.change(call.session, call.body.current_password, call.body.new_password, call.client)
    return pm.PasswordChanged(ended_sessions=ended).model_dump()


@endpoint(bp, "/v1/password-resets", "POST", summary="Email a password reset link (the same answer for any "
          "email)", body=pm.PasswordResetRequest, response=models.Accepted, status=202, errors=(400, 429))
def request_password_reset(call):
    password.request_reset(call.body.email, call.client)
    return Reply(models.Accepted(message="If an account uses this address, we emailed it a link to reset the "
                                         "password. It works once, for 1 hour.").model_dump(), 202)


@endpoint(bp, "/v1/password-resets/confirm", "POST", summary="Set a new password with the emailed reset token; "
          "ends every session, logs nobody in", body=pm.PasswordResetConfirm, response=pm.PasswordReset,
          errors=(400,))
def confirm_password_reset(call):
    ended = password.confirm_reset(call.body.token, call.body.new_password, call.client)
    return pm.PasswordReset(ended_sessions=ended).model_dump()
