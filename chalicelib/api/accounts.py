from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import ENROLLMENT, Reply, endpoint
from chalicelib.api.signup_models import EmailVerified
from chalicelib.services import accounts

bp = Blueprint(__name__)


@endpoint(bp, "/v1/accounts", "POST", summary="Sign up; a verification email follows",
          body=models.SignupRequest, response=models.Accepted, status=202, errors=(400, 429, 503))
def signup(call):
    accounts.signup(call.body.email, call.body.password, call.client)
    return Reply(models.Accepted(message="Check your inbox to verify your email address.").model_dump(), 202)


@endpoint(bp, "/v1/accounts/verify-email", "POST", summary="Verify the email address with the emailed token "
          "(the first link of the address used makes the account)",
          body=models.VerifyEmailRequest, response=EmailVerified, errors=(400, 409))
def verify_email(call):
    return EmailVerified(already_verified=accounts.verify_email(call.body.token, call.client)).model_dump()


@endpoint(bp, "/v1/account", "GET", summary="The current account", auth=ENROLLMENT,
          response=models.Account, errors=(401,))
def get_account(call):
    return models.Account(**accounts.view(call.session)).model_dump()
