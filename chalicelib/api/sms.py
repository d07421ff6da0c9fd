"""Deprecated SMS: adding is refused; legacy methods send codes until the sunset."""
from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import FULL, PUBLIC, Reply, endpoint
from chalicelib.methods import sms as sms_method
from chalicelib.services import sms

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/methods/sms", "POST", summary="Always 410 sms_deprecated: SMS cannot be added; the "
          "message names the alternatives", auth=PUBLIC, errors=(410,))
def add_sms(call):
    raise sms_method.deprecated()


@endpoint(bp, "/v1/login/{login_id}/sms", "POST", summary="Text a 6-digit code to a legacy SMS method (before "
          "the SMS sunset only; 410 sms_sunset after), then verify it as a code", auth=PUBLIC,
          body=models.PushRequest, response=models.SmsCodeSent, status=201, errors=(400, 404, 410, 429))
def login_sms(call, login_id):
    sent = sms.send_for_login(login_id, call.body.method_id, call.client, call.login_browser)
    return Reply(models.SmsCodeSent(**sent).model_dump(), 201)


@endpoint(bp, "/v1/account/step-up/sms", "POST", summary="Text a step-up code to a legacy SMS method (before the "
          "sunset only)", auth=FULL, body=models.PushRequest, response=models.SmsCodeSent, status=201,
          errors=(400, 401, 403, 404, 410, 429))
def step_up_sms(call):
    return Reply(models.SmsCodeSent(**sms.send_for_step_up(call.session, call.body.method_id, call.client)).model_dump(),
                 201)
