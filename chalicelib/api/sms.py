"""Deprecated SMS: adding is refused. Legacy methods text their codes through the challenge
routes (api/login.py, api/step_up.py)."""
from chalice import Blueprint

from chalicelib.api.http import PUBLIC, endpoint
from chalicelib.methods import sms as sms_method

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/methods/sms", "POST", summary="Always 410 sms_deprecated: SMS cannot be added; the "
          "message names the alternatives", auth=PUBLIC, errors=(410,))
def add_sms(call):
    raise sms_method.deprecated()
