"""A real SAML 2.0 IdP for tests: pysaml2's Server signing with Debian's xmlsec1 (RSA-SHA256), served
over HTTP on 127.0.0.1 with a login page a browser can fill in.

GET /sso?SAMLRequest=&RelayState= shows the login form (email, an "MFA" checkbox); POST /sso/login
answers with the standard auto-submitting form that posts SAMLResponse and RelayState to the ACS.
Every login is fresh (the IdP keeps no session), so ForceAuthn is always honoured; the AuthnContext
is what the form says (REFEDS MFA when the box is ticked), whatever was requested.

Variants a test needs come from the same signing code (`issue`), and signature-wrapping forgeries
are built from a genuine response (`wrap_beside`, `wrap_moved`). Missing xmlsec1 or pysaml2 fails
the run in CI and skips, loudly, elsewhere.
"""
import base64
import contextlib
import copy
import datetime
import html
import os
import shutil
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

REFEDS_MFA = "https://refeds.org/profile/mfa"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
# A second service provider the IdP knows: responses issued for it carry its audience.
OTHER_SP = "https://other-sp.example.org/saml"


def require_saml_idp() -> None:
    """pysaml2 (a dev dependency) and xmlsec1 (Debian's package, installed in CI)."""
    missing = None
    if shutil.which("xmlsec1") is None:
        missing = "xmlsec1 is not installed (apt-get install xmlsec1)"
    else:
        try:
            import saml2.server  # noqa: F401
        except ImportError as error:
            missing = f"pysaml2 is not installed: {error}"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"saml idp: {missing}")
        pytest.skip(f"NOT TESTED AGAINST A REAL SAML IDP: {missing}")


def self_signed_certificate(common_name: str) -> tuple[str, str]:
    """(private key PEM, certificate PEM): a fresh RSA key, self-signed for a year (from yesterday)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + datetime.timedelta(days=366)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _sp_metadata(entity_id: str, acs_url: str) -> str:
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{html.escape(entity_id)}">
  <md:SPSSODescriptor protocolSupportEnumeration="{SAMLP}" WantAssertionsSigned="true">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
      Location="{html.escape(acs_url)}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def _post_form(acs_url: str, saml_response: str, relay_state: str | None) -> str:
    relay = (f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
             if relay_state is not None else "")
    return (f'<!doctype html><html><body><form method="post" action="{html.escape(acs_url)}">'
            f'<input type="hidden" name="SAMLResponse" value="{saml_response}">{relay}'
            '<noscript><button>Continue</button></noscript></form>'
            '<script>document.forms[0].submit()</script></body></html>')


def _login_form(saml_request: str, relay_state: str | None) -> str:
    relay = (f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
             if relay_state is not None else "")
    return ('<!doctype html><html><head><title>Test IdP</title></head><body><h1>Test IdP</h1>'
            '<form method="post" action="/sso/login">'
            f'<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">{relay}'
            '<label>Email <input name="email" type="email" required></label>'
            '<label><input name="mfa" type="checkbox" value="on"> Second factor used (MFA)</label>'
            '<button type="submit">Log in</button></form></body></html>')


class SamlIdp:
    def __init__(self, workdir: str, base_url: str, sp_entity_id: str, acs_url: str):
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.config import IdPConfig
        from saml2.metadata import entity_descriptor
        from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS
        from saml2.server import Server
        from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

        key_pem, cert_pem = self_signed_certificate("test-idp")
        key_file, cert_file = os.path.join(workdir, "idp.key"), os.path.join(workdir, "idp.crt")
        for path, text in ((key_file, key_pem), (cert_file, cert_pem)):
            with open(path, "w") as file:
                file.write(text)
        self.entity_id = base_url + "/metadata"
        self.sso_url = base_url + "/sso"
        self.certificate = cert_pem
        config = IdPConfig().load({
            "entityid": self.entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "crypto_backend": "xmlsec1",
            "key_file": key_file,
            "cert_file": cert_file,
            "metadata": {"inline": [_sp_metadata(sp_entity_id, acs_url), _sp_metadata(OTHER_SP, acs_url)]},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                "want_authn_requests_signed": False,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }},
        })
        self._server = Server(config=config)
        self.metadata_xml = str(entity_descriptor(config))

    def issue(self, saml_request: str, email: str, *, mfa: bool = True, sign_assertion: bool = True,
              sign_response: bool = False, audience: str | None = None, in_response_to: str | None = None,
              sha1: bool = False) -> str:
        """A base64 SAMLResponse to the AuthnRequest `saml_request` (as sent by HTTP-Redirect), signed by
        this IdP as asked (RSA-SHA256, or the weak RSA-SHA1 when `sha1`); `audience` and
        `in_response_to` override what the request implies."""
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
        from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

        request = self._server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        response = self._server.create_authn_response(
            identity={"mail": [email]},
            in_response_to=in_response_to or request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=audience or request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": REFEDS_MFA if mfa else PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
        )
        return base64.b64encode(str(response).encode()).decode()

    def acs_url_of(self, saml_request: str) -> str:
        from saml2 import BINDING_HTTP_REDIRECT

        request = self._server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        return request.assertion_consumer_service_url

    def log_in(self, redirect_url: str, email: str, mfa: bool = True) -> tuple[str, str, str | None]:
        """(acs_url, SAMLResponse, RelayState): the login a browser would do, over this IdP's HTTP endpoints."""
        with requests.Session() as session:
            page = session.get(redirect_url, timeout=10)
            page.raise_for_status()
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect_url).query)
            form = {"SAMLRequest": query["SAMLRequest"][0], "email": email}
            if "RelayState" in query:
                form["RelayState"] = query["RelayState"][0]
            if mfa:
                form["mfa"] = "on"
            answer = session.post(self.sso_url + "/login", data=form, timeout=10)
            answer.raise_for_status()
        return _read_post_form(answer.text)


def _read_post_form(page: str) -> tuple[str, str, str | None]:
    """(action, SAMLResponse, RelayState) of the auto-submitting form."""
    from html.parser import HTMLParser

    found: dict = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag == "form":
                found["action"] = attributes["action"]
            elif tag == "input" and attributes.get("name"):
                found[attributes["name"]] = attributes.get("value")

    Reader().feed(page)
    return found["action"], found["SAMLResponse"], found.get("RelayState")


def _handler(idp: SamlIdp):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/metadata":
                return self._send(200, idp.metadata_xml, "application/samlmetadata+xml")
            if url.path != "/sso" or "SAMLRequest" not in query:
                return self._send(404, "not found")
            self._send(200, _login_form(query["SAMLRequest"][0], query.get("RelayState", [None])[0]))

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/sso/login":
                return self._send(404, "not found")
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            saml_request = form["SAMLRequest"][0]
            try:
                response = idp.issue(saml_request, form["email"][0], mfa=form.get("mfa") == ["on"])
                acs_url = idp.acs_url_of(saml_request)
            except Exception as error:  # a test IdP: show why, as a page
                return self._send(400, html.escape(f"{type(error).__name__}: {error}"), "text/plain")
            self._send(200, _post_form(acs_url, response, form.get("RelayState", [None])[0]))

    return Handler


@contextlib.contextmanager
def saml_idp(sp_entity_id: str, acs_url: str):
    """A SamlIdp for the service provider `sp_entity_id` (responses posted to `acs_url`), served on a
    free port of 127.0.0.1 with a fresh key, until the block ends."""
    require_saml_idp()
    from localdev.embedded_aws import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        idp = SamlIdp(workdir, f"http://127.0.0.1:{port}", sp_entity_id, acs_url)
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(idp))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield idp
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _forged(assertion, email: str):
    """A copy of `assertion` naming `email` wherever it named its subject, with a new ID and no signature."""
    from lxml import etree

    forged = copy.deepcopy(assertion)
    for signature in forged.findall(f"{{{DS}}}Signature"):
        forged.remove(signature)
    original = forged.findtext(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    for element in forged.iter(etree.Element):
        if element.text == original:
            element.text = email
    forged.set("ID", "_forged" + os.urandom(8).hex())
    return forged


def _tree(saml_response: str):
    from lxml import etree

    root = etree.fromstring(base64.b64decode(saml_response))
    return root, root.find(f"{{{SAML}}}Assertion")


def _encoded(root) -> str:
    from lxml import etree

    return base64.b64encode(etree.tostring(root)).decode()


def wrap_beside(saml_response: str, email: str) -> str:
    """Signature wrapping: a second, unsigned assertion for `email` before the genuine signed one."""
    root, signed = _tree(saml_response)
    signed.addprevious(_forged(signed, email))
    return _encoded(root)


def wrap_moved(saml_response: str, email: str, into: str = "Extensions") -> str:
    """Signature wrapping: the genuine assertion moved into samlp:Extensions (or, `into="Object"`, a
    ds:Object inside the signature), and in its place a forged one for `email` carrying the
    genuine signature (which still references the genuine assertion's ID)."""
    from lxml import etree

    root, signed = _tree(saml_response)
    forged = _forged(signed, email)
    signature = copy.deepcopy(signed.find(f"{{{DS}}}Signature"))
    forged.find(f"{{{SAML}}}Issuer").addnext(signature)
    signed.addprevious(forged)
    root.remove(signed)
    if into == "Extensions":
        extensions = etree.Element(f"{{{SAMLP}}}Extensions")
        root.find(f"{{{SAML}}}Issuer").addnext(extensions)
        extensions.append(signed)
    else:
        etree.SubElement(signature, f"{{{DS}}}Object").append(signed)
    return _encoded(root)
