"""The account's email address: resend the verification link, change the address."""
from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import BROWSER, Reply, clear_session_cookie, endpoint
from chalicelib.services import email_address

bp = Blueprint(__name__)

RESENT = "If this address has an account waiting for verification, a new link is on its way."
CHANGE_ASKED = "Check the new address's inbox: the change happens when its link is used, within 24 hours."


@endpoint(bp, "/v1/accounts/verification-email", "POST", summary="Send a verification link again, for the "
          "address's newest unverified sign-up (earlier links keep working)",
          body=models.ResendVerificationRequest, response=models.Accepted, status=202, errors=(400, 429))
def resend_verification(call):
    email_address.resend_verification(call.body.email, call.client)
    return Reply(models.Accepted(message=RESENT).model_dump(), 202)


@endpoint(bp, "/v1/account/email", "POST", summary="Change the email address (step-up required); a "
          "confirmation link goes to the new address", auth=BROWSER, body=models.EmailChangeRequest,
          response=models.Accepted, status=202, errors=(400, 401, 403, 429))
def request_email_change(call):
    email_address.request_change(call.session, call.body.new_email, call.client)
    return Reply(models.Accepted(message=CHANGE_ASKED).model_dump(), 202)


@endpoint(bp, "/v1/account/email/confirm", "POST", summary="Confirm an email change with the emailed token; "
          "ends every session", body=models.EmailChangeConfirmRequest, response=models.EmailChanged,
          errors=(400, 409))
def confirm_email_change(call):
    new_email = email_address.confirm_change(call.body.token, call.client)
    # Every session of the account ended: this browser's cookie, if any, goes too.
    return Reply(models.EmailChanged(email=new_email).model_dump(), 200, cookies=[clear_session_cookie()])
