from chalice import Blueprint

from chalicelib import errors
from chalicelib.api import models
from chalicelib.api.http import BROWSER, BROWSER_ENROLLMENT, FULL, QueryParam, Reply, cookie_for, endpoint, issued
from chalicelib.methods import webauthn
from chalicelib.services import account_methods, audit

bp = Blueprint(__name__)


@endpoint(bp, "/v1/account/methods", "GET", summary="List the account's verification methods", auth=FULL,
          response=models.MethodList, errors=(401, 403))
def list_methods(call):
    return models.MethodList(**account_methods.list_methods(call.session)).model_dump()


@endpoint(bp, "/v1/account/methods", "POST", summary="Start enrolling a method of any type that enrols here "
          "(then confirm it at /v1/account/methods/{method_id}/confirm, or as its type says); step-up required, "
          "except for an account's first method", auth=BROWSER_ENROLLMENT, body=models.EnrollmentRequest,
          response=models.EnrollmentStarted, status=201, errors=(400, 401, 403, 429))
def enroll(call):
    request = call.body.root
    started = account_methods.begin(call.session, request.type, request.label, call.client)
    return Reply(models.EnrollmentStarted(**started).model_dump(), 201)


@endpoint(bp, "/v1/account/methods/totp", "POST", summary="Start enrolling a TOTP authenticator app "
          "(step-up required, except for an account's first method)",
          auth=BROWSER_ENROLLMENT, body=models.EnrollTotpRequest, response=models.TotpEnrollment, status=201,
          errors=(400, 401, 403))
def enroll_totp(call):
    started = account_methods.begin(call.session, "totp", call.body.label, call.client)
    return Reply(models.TotpEnrollment(**started).model_dump(), 201)


@endpoint(bp, "/v1/account/methods/webauthn/options", "POST", summary="Start registering a security key "
          "or built-in authenticator: creation options for navigator.credentials.create() (step-up required, "
          "except for an account's first method)", auth=BROWSER_ENROLLMENT, body=models.WebAuthnOptionsRequest,
          response=models.WebAuthnCreationOptions, errors=(400, 401, 403))
def webauthn_creation_options(call):
    started = account_methods.begin(call.session, call.body.type, call.body.label, call.client)
    return models.WebAuthnCreationOptions(**started).model_dump()


@endpoint(bp, "/v1/account/methods/webauthn", "POST", summary="Finish registering a security key or built-in "
          "authenticator with the credential navigator.credentials.create() returned", auth=BROWSER_ENROLLMENT,
          body=models.WebAuthnRegistration, response=models.MethodConfirmed, status=201,
          errors=(400, 401, 403, 404, 409))
def register_webauthn(call):
    method_id = webauthn.enrollment_method_id(call.body.credential)
    method, upgraded = account_methods.confirm(call.session, method_id, {"credential": call.body.credential},
                                               call.client, label=call.body.label, types=webauthn.WEBAUTHN_TYPES)
    body = models.MethodConfirmed(method=models.Method(**method),
                                  session=issued(upgraded, False) if upgraded else None,
                                  other_sessions=account_methods.other_sessions(call.session, upgraded))
    return Reply(body.model_dump(), 201, cookies=[cookie_for(upgraded)] if upgraded else [])


@endpoint(bp, "/v1/account/methods/{method_id}/confirm", "POST",
          summary="Confirm a pending method with a proof (a TOTP code)", auth=BROWSER_ENROLLMENT,
          body=models.ConfirmMethodRequest, response=models.MethodConfirmed, errors=(400, 401, 403, 404, 409))
def confirm_method(call, method_id):
    method, upgraded = account_methods.confirm(call.session, method_id, call.body.model_dump(), call.client)
    body = models.MethodConfirmed(method=models.Method(**method),
                                  session=issued(upgraded, False) if upgraded else None,
                                  other_sessions=account_methods.other_sessions(call.session, upgraded))
    return Reply(body.model_dump(), 200, cookies=[cookie_for(upgraded)] if upgraded else [])


@endpoint(bp, "/v1/account/methods/{method_id}", "PATCH", summary="Rename a method (step-up required)",
          auth=BROWSER, body=models.RenameMethodRequest, response=models.Method, errors=(400, 401, 403, 404))
def rename_method(call, method_id):
    return models.Method(**account_methods.rename(call.session, method_id, call.body.label, call.client)).model_dump()


@endpoint(bp, "/v1/account/methods/{method_id}", "DELETE", summary="Remove a method for good (step-up and "
          "{\"confirm\": true} required); answers the remaining methods", auth=BROWSER,
          body=models.RemoveMethodRequest, response=models.MethodList, errors=(400, 401, 403, 404, 409))
def remove_method(call, method_id):
    return models.MethodList(**account_methods.remove(call.session, method_id, call.body.confirm,
                                                      call.client)).model_dump()


@endpoint(bp, "/v1/account/recovery-codes", "POST", summary="Generate 10 recovery codes, shown once; the "
          "previous set stops working (step-up required)", auth=BROWSER, body=models.RecoveryCodesRequest,
          response=models.RecoveryCodes, status=201, errors=(400, 401, 403))
def generate_recovery_codes(call):
    generated = account_methods.begin(call.session, "recovery_codes", None, call.client)
    return Reply(models.RecoveryCodes(**generated).model_dump(), 201)


@endpoint(bp, "/v1/account/events", "GET", summary="The account's security events, newest first "
          "(?limit=1..100&cursor=)", auth=FULL, response=models.AuditEventPage, errors=(400, 401, 403),
          query=(QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
                 QueryParam("cursor", {"type": "string"}, description="next_cursor of the previous page")))
def list_events(call):
    params = call.request.query_params or {}
    try:
        limit = int(params.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise errors.invalid_request("limit must be a whole number from 1 to 100.")
    return models.AuditEventPage(**audit.page(call.session["account_id"], limit, params.get("cursor"))).model_dump()
