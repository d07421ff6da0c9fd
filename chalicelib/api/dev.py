"""Development helpers, answering only in the local stage."""
from chalice import Blueprint

from chalicelib.api import models
from chalicelib.api.http import endpoint
from chalicelib.config import get_settings
from chalicelib.errors import not_found

bp = Blueprint(__name__)


@endpoint(bp, "/_dev/mailbox", "GET", summary="Local stage only: emails sent, newest first",
          response=models.Mailbox, errors=(404,))
def mailbox(call):
    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    from chalicelib import mailbox as local_mailbox

    return models.Mailbox(messages=local_mailbox.messages()).model_dump()


_VERIFY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Verify your email</title></head>
<body><main><h1>Verify your email</h1><p id="result" role="status">Verifying…</p></main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get("token");
fetch("/v1/accounts/verify-email", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json", "X-Requested-With": "fetch"},
  body: JSON.stringify({token: token || ""})})
  .then(r => r.json().then(body => [r.ok, body]))
  .then(([ok, body]) => { document.getElementById("result").textContent =
    ok ? "Your email address is verified. You can log in now." : body.message; });
</script></body></html>"""


@endpoint(bp, "/verify-email", "GET", summary="Local stage only: the page the verification link opens "
          "(an HTML page; the token travels in the URL fragment, so it never reaches a server log)", errors=(404,))
def verify_email_page(call):
    from chalice import Response

    if not get_settings().dev_mailbox_enabled:
        raise not_found("page")
    return Response(_VERIFY_PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8",
                                                            "Cache-Control": "no-store"})
