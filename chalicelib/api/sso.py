"""Single sign-on: starting at the identity provider, its answers (OIDC callback, SAML ACS),
our SAML service-provider metadata, and step-up of an SSO session.

The callbacks are browser navigations: they answer with a redirect to the frontend (and the
session cookie), or with a short page that says what went wrong; API clients that ask for
JSON get JSON.
"""
import html

from chalice import Blueprint, Response

from chalicelib.api import sso_models
from chalicelib.api.http import (
    BROWSER,
    FORM,
    IDP,
    PUBLIC,
    Reply,
    cookie_for,
    cookie_value,
    endpoint,
    error_response,
    json_response,
)
from chalicelib.config import get_settings
from chalicelib.errors import ApiError

bp = Blueprint(__name__)
_CALLBACK_ERRORS = (400, 401, 403, 404)


def _sso_cookie(token: str, max_age: int) -> str:
    # SameSite=None: a SAML answer arrives as a POST from the IdP's site, which must carry it.
    return f"{get_settings().sso_cookie_name}={token}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=None"


def _redirect(url: str, browser: str) -> Reply:
    return Reply(sso_models.SsoRedirect(redirect_url=url).model_dump(), 200,
                 cookies=[_sso_cookie(browser, get_settings().sso_request_seconds)])


def _wants_json(request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _page(error: ApiError) -> Response:
    start_again = get_settings().public_base_url.rstrip("/") + "/login"
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
            f'<main data-error="{html.escape(error.code)}"><h1>Sign-in refused</h1><p>{html.escape(error.message)}</p>'
            f'<p><a href="{html.escape(start_again)}">Start again</a></p></main></body></html>')
    return Response(body=body, status_code=error.status, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        # The binding cookie stays: an answer refused before anything was used up (junk posted
        # from another site, say) must not end a sign-in in progress.
        "Content-Security-Policy": "default-src 'none'"})


def _finished(call, finish) -> Response:
    """Run the callback's service step; answer as the caller expects."""
    try:
        outcome = finish(cookie_value(call.request, get_settings().sso_cookie_name))
    except ApiError as error:
        return error_response(error) if _wants_json(call.request) else _page(error)
    cookies = [_sso_cookie("", 0)] + ([cookie_for(outcome.session)] if outcome.session else [])
    if _wants_json(call.request):
        session = outcome.session
        return json_response(200, sso_models.SsoFinished(
            return_to=outcome.return_to, session_id=session.record["session_id"] if session else None,
            expires_at=session.expires_at if session else None).model_dump(exclude_none=True), cookies=cookies)
    location = get_settings().public_base_url.rstrip("/") + outcome.return_to
    return Response(body="", status_code=303, headers={"Location": location, "Cache-Control": "no-store",
                                                       "Set-Cookie": cookies})


@endpoint(bp, "/v1/sso/start", "POST", summary="Log in through the identity provider of the email's domain (or "
          "of connection_id): send the browser to redirect_url", body=sso_models.SsoStart,
          response=sso_models.SsoRedirect, errors=(400, 404, 429, 503))
def sso_start(call):
    from chalicelib.services.sso import connections, login

    body = call.body
    connection = connections.for_email(body.email) if body.email else connections.get(body.connection_id)
    return _redirect(*login.start(connection, call.client, return_to=body.return_to))


@endpoint(bp, "/v1/sso/{connection_id}/oidc/callback", "GET", summary="The OpenID Connect provider's answer "
          "(authorization code): on success, a redirect to the frontend with a web session (auth: sso)",
          status=303, errors=_CALLBACK_ERRORS)
def oidc_callback(call, connection_id):
    from chalicelib.services.sso import login

    query = call.request.query_params or {}
    return _finished(call, lambda browser: login.finish_oidc(
        connection_id, state=query.get("state", ""), code=query.get("code"), idp_error=query.get("error"),
        browser=browser, client=call.client))


@endpoint(bp, "/v1/sso/{connection_id}/saml/acs", "POST", summary="The SAML identity provider's answer (HTTP-POST "
          "binding): on success, a redirect to the frontend with a web session (auth: sso)", auth=IDP,
          body=sso_models.SamlPost, content_type=FORM, status=303, errors=_CALLBACK_ERRORS)
def saml_acs(call, connection_id):
    from chalicelib.services.sso import login

    return _finished(call, lambda browser: login.finish_saml(
        connection_id, saml_response=call.body.SAMLResponse, browser=browser, client=call.client))


@endpoint(bp, "/v1/sso/{connection_id}/saml/metadata", "GET", summary="Our SAML service-provider metadata for "
          "this connection (entity id, ACS URL), for the identity provider's administrator", auth=PUBLIC,
          errors=(404,))
def saml_metadata(call, connection_id):
    from chalicelib.services.sso import login

    return Response(body=login.sp_metadata(connection_id), status_code=200,
                    headers={"Content-Type": "application/samlmetadata+xml", "Cache-Control": "max-age=300"})


@endpoint(bp, "/v1/account/step-up/sso", "POST", summary="Step-up of a session that logged in through an identity "
          "provider: re-authenticate there (forced), with MFA, then land on return_to", auth=BROWSER,
          body=sso_models.SsoStepUp, response=sso_models.SsoRedirect, errors=(400, 401, 403, 404, 409, 503))
def sso_step_up(call):
    from chalicelib.services.sso import login

    return _redirect(*login.step_up_start(call.session, call.client, call.body.return_to))

