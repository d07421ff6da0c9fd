from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import ENROLLMENT, Reply, endpoint
from chalicelib.api.login import cookie_for, issued
from chalicelib.services import enrollment

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/methods/totp", "POST", summary="Start enrolling a TOTP authenticator app",
          auth=ENROLLMENT, body=models.EnrollTotpRequest, response=models.TotpEnrollment, status=201,
          errors=(400, 401, 403))
def enroll_totp(call):
    started = enrollment.begin(call.session, "totp", call.body.label)
    return Reply(models.TotpEnrollment(**started).model_dump(), 201)


@endpoint(bp, "/v1/account/methods/{method_id}/confirm", "POST",
          summary="Confirm a pending method with a proof (a TOTP code)", auth=ENROLLMENT,
          body=models.ConfirmMethodRequest, response=models.MethodConfirmed, errors=(400, 401, 403, 404, 409))
def confirm_method(call, method_id):
    method, upgraded = enrollment.confirm(call.session, method_id, call.body.model_dump(), call.client)
    body = models.MethodConfirmed(method=models.Method(**method),
                                  session=issued(upgraded, False) if upgraded else None)
    return Reply(body.model_dump(), 200, cookies=[cookie_for(upgraded)] if upgraded else [])
