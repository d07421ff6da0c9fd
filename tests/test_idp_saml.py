"""chalicelib/idp/saml.py against a real SAML IdP (pysaml2 signing with xmlsec1): what we send it,
and which of its answers (and forgeries built from them) we accept."""
import base64
import os
import shutil
import time
import urllib.parse
import zlib

import pytest
from lxml import etree

from chalicelib.idp import REFEDS_MFA, IdpRefused, saml
from tests.support.saml_idp import (
    DS,
    PASSWORD_PROTECTED,
    SAML,
    SAMLP,
    saml_idp,
    self_signed_certificate,
    wrap_beside,
    wrap_moved,
)

SP = "https://sp.example.org/saml"
ACS = "https://sp.example.org/saml/acs"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@pytest.fixture(scope="module")
def idp():
    with saml_idp(SP, ACS) as running:
        yield running


@pytest.fixture(scope="module")
def metadata(idp):
    return saml.parse_idp_metadata(idp.metadata_xml)


def start(metadata, *, force_authn=False, relay_state="state-1", refs=(REFEDS_MFA,)):
    """(request id, redirect URL) of a fresh AuthnRequest."""
    request_id = saml.new_request_id()
    url = saml.authn_request_url(sso_url=metadata.sso_url, request_id=request_id, sp_entity_id=SP, acs_url=ACS,
                                 now=int(time.time()), authn_context_class_refs=list(refs),
                                 force_authn=force_authn, relay_state=relay_state)
    return request_id, url


def saml_request(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SAMLRequest"][0]


def issued(idp, metadata, email="alice@example.org", **variant) -> tuple[str, str]:
    """(request id, base64 SAMLResponse) from the IdP's signing code, for a fresh request."""
    request_id, url = start(metadata)
    return request_id, idp.issue(saml_request(url), email, **variant)


def read(response, metadata, *, now=None, acs_url=ACS, **kwargs):
    return saml.read_response(response, idp=metadata, sp_entity_id=SP, acs_url=acs_url,
                              now=int(time.time()) if now is None else now, **kwargs)


def refused(reason, response, metadata, **kwargs) -> IdpRefused:
    with pytest.raises(IdpRefused) as raised:
        read(response, metadata, **kwargs)
    assert raised.value.reason == reason, raised.value
    return raised.value


def edited(response: str, edit) -> str:
    """The response with `edit(root)` applied to its XML (after signing, as an attacker would)."""
    root = etree.fromstring(base64.b64decode(response))
    edit(root)
    return base64.b64encode(etree.tostring(root)).decode()


# Metadata

def test_idp_metadata_gives_entity_id_redirect_sso_url_and_signing_certificate(idp, metadata):
    assert (metadata.entity_id, metadata.sso_url) == (idp.entity_id, idp.sso_url)
    assert metadata.certificates == (idp.certificate,)


def _without(xml: str, path: str) -> str:
    root = etree.fromstring(xml.encode())
    for element in root.findall(path, {"md": MD, "ds": DS}):
        element.getparent().remove(element)
    return etree.tostring(root).decode()


def test_metadata_without_a_signing_certificate_or_redirect_sso_is_refused(idp):
    for path in (".//md:KeyDescriptor", ".//md:SingleSignOnService"):
        with pytest.raises(IdpRefused) as raised:
            saml.parse_idp_metadata(_without(idp.metadata_xml, path))
        assert raised.value.reason == "invalid_metadata"
    post_only = idp.metadata_xml.replace("bindings:HTTP-Redirect", "bindings:HTTP-POST")
    with pytest.raises(IdpRefused, match="HTTP-Redirect"):
        saml.parse_idp_metadata(post_only)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol3;"/>"""


def test_a_doctype_or_entity_bomb_is_refused_before_anything_is_read(metadata):
    with pytest.raises(IdpRefused) as raised:
        saml.parse_idp_metadata(BOMB)
    assert raised.value.reason == "invalid_metadata" and "DOCTYPE" in raised.value.detail
    refused("malformed", base64.b64encode(BOMB.encode()).decode(), metadata)
    utf16 = BOMB.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(IdpRefused, match="DOCTYPE"):
        saml.parse_idp_metadata(utf16)


def test_our_metadata_names_the_acs_and_wants_signed_assertions():
    root = etree.fromstring(saml.sp_metadata(entity_id=SP, acs_url=ACS).encode())
    assert root.get("entityID") == SP
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor.get("WantAssertionsSigned") == "true" and descriptor.get("AuthnRequestsSigned") == "false"
    acs = descriptor.find(f"{{{MD}}}AssertionConsumerService")
    assert (acs.get("Location"), acs.get("Binding")) == (ACS, saml.BINDING_POST)
    assert descriptor.findtext(f"{{{MD}}}NameIDFormat") == saml.NAMEID_EMAIL


# The AuthnRequest

def test_request_ids_are_xml_ids_with_128_random_bits():
    ids = {saml.new_request_id() for _ in range(50)}
    assert len(ids) == 50 and all(i[0] == "_" and len(i) == 33 for i in ids)


def test_the_redirect_carries_the_request_with_the_contexts_and_force_authn(metadata):
    request_id, url = start(metadata, force_authn=True, refs=(REFEDS_MFA, PASSWORD_PROTECTED))
    assert url.startswith(metadata.sso_url + "?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["RelayState"] == ["state-1"]
    request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
    assert request.tag == f"{{{SAMLP}}}AuthnRequest"
    assert (request.get("ID"), request.get("ForceAuthn")) == (request_id, "true")
    assert (request.get("AssertionConsumerServiceURL"), request.get("ProtocolBinding")) == (ACS, saml.BINDING_POST)
    assert request.findtext(f"{{{SAML}}}Issuer") == SP
    context = request.find(f"{{{SAMLP}}}RequestedAuthnContext")
    assert context.get("Comparison") == "exact"
    assert [r.text for r in context] == [REFEDS_MFA, PASSWORD_PROTECTED]
    _, unforced = start(metadata)
    assert b"ForceAuthn" not in zlib.decompress(base64.b64decode(saml_request(unforced)), -15)


# Responses we accept

def test_a_login_with_mfa_at_the_idp_gives_the_signed_assertion(idp, metadata):
    request_id, url = start(metadata, force_authn=True)
    acs_url, response, relay_state = idp.log_in(url, "Alice@Example.org", mfa=True)
    assert (acs_url, relay_state) == (ACS, "state-1")
    assertion = read(response, metadata)
    assert assertion.email == "alice@example.org"
    assert assertion.authn_context_class_ref == REFEDS_MFA
    assert assertion.in_response_to == request_id
    assert assertion.issuer == idp.entity_id and assertion.assertion_id and assertion.session_index
    now = int(time.time())
    assert now < assertion.not_on_or_after <= now + 600
    assert abs(assertion.authn_instant - now) < 60


@pytest.mark.parametrize("signed", [{"sign_response": True, "sign_assertion": False},
                                    {"sign_response": True, "sign_assertion": True}])
def test_a_signed_response_is_accepted_in_place_of_a_signed_assertion(idp, metadata, signed):
    request_id, response = issued(idp, metadata, **signed)
    assertion = read(response, metadata)
    assert (assertion.email, assertion.in_response_to) == ("alice@example.org", request_id)


def test_a_foreign_in_response_to_is_returned_for_the_caller_to_refuse(idp, metadata):
    request_id, response = issued(idp, metadata, in_response_to="_" + "f" * 32)
    assert read(response, metadata).in_response_to == "_" + "f" * 32 != request_id


# Responses we refuse

def test_without_mfa_the_context_says_so_for_the_caller_to_refuse(idp, metadata):
    _, url = start(metadata)
    _, response, _ = idp.log_in(url, "alice@example.org", mfa=False)
    assertion = read(response, metadata)
    assert (assertion.email, assertion.authn_context_class_ref) == ("alice@example.org", PASSWORD_PROTECTED)


def test_an_unsigned_response_is_refused(idp, metadata):
    _, response = issued(idp, metadata, sign_assertion=False, sign_response=False)
    refused("unsigned", response, metadata)


def test_a_second_unsigned_assertion_beside_the_signed_one_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    error = refused("multiple_assertions", wrap_beside(response, "mallory@example.org"), metadata)
    assert "mallory" not in str(error)


@pytest.mark.parametrize("into", ["Extensions", "Object"])
def test_the_signed_assertion_moved_aside_for_a_forged_one_is_refused(idp, metadata, into):
    _, response = issued(idp, metadata)
    refused("multiple_assertions", wrap_moved(response, "mallory@example.org", into=into), metadata)


def test_a_signature_over_another_element_than_its_parent_is_refused(idp, metadata):
    """The Response's genuine signature moved into the (unsigned) Assertion still verifies, but it
    covers the Response, not the Assertion that carries it."""
    _, response = issued(idp, metadata, sign_response=True, sign_assertion=False)

    def move(root):
        assertion = root.find(f"{{{SAML}}}Assertion")
        assertion.find(f"{{{SAML}}}Issuer").addnext(root.find(f"{{{DS}}}Signature"))
    error = refused("invalid_signature", edited(response, move), metadata)
    assert "does not cover the Assertion" in error.detail


def test_a_sha1_signature_is_refused(idp, metadata):
    _, response = issued(idp, metadata, sha1=True)
    assert "SHA1 forbidden" in refused("invalid_signature", response, metadata).detail


def test_a_value_changed_after_signing_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    tampered = base64.b64encode(base64.b64decode(response).replace(b"alice@", b"mallory@")).decode()
    assert "Digest mismatch" in refused("invalid_signature", tampered, metadata).detail


def test_a_signature_by_another_key_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    _, other = self_signed_certificate("impostor")
    refused("invalid_signature", response, saml.IdpMetadata(metadata.entity_id, metadata.sso_url, (other,)))
    rolled_over = saml.IdpMetadata(metadata.entity_id, metadata.sso_url, (other, *metadata.certificates))
    assert read(response, rolled_over).email == "alice@example.org"


def test_another_issuer_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    refused("wrong_issuer", response, saml.IdpMetadata("https://other-idp.example", metadata.sso_url,
                                                       metadata.certificates))


def test_an_assertion_for_another_service_provider_is_refused(idp, metadata):
    from tests.support.saml_idp import OTHER_SP

    _, response = issued(idp, metadata, audience=OTHER_SP)
    refused("wrong_audience", response, metadata)


def test_expired_and_not_yet_valid_assertions_are_refused(idp, metadata):
    _, response = issued(idp, metadata)
    expiry = read(response, metadata).not_on_or_after
    assert read(response, metadata, now=expiry + 119).email == "alice@example.org"  # within the skew
    refused("expired", response, metadata, now=expiry + 120)
    refused("not_yet_valid", response, metadata, now=int(time.time()) - 3600)


def test_a_response_for_another_acs_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    refused("wrong_destination", response, metadata, acs_url="https://elsewhere.example/acs")
    # The Response isn't signed here, so its Destination can be dropped; the signed Recipient remains.
    undirected = edited(response, lambda root: root.attrib.pop("Destination"))
    refused("wrong_recipient", undirected, metadata, acs_url="https://elsewhere.example/acs")


def test_a_response_whose_in_response_to_disagrees_with_its_assertion_is_refused(idp, metadata):
    _, response = issued(idp, metadata)
    refused("in_response_to_mismatch", edited(response, lambda root: root.set("InResponseTo", "_other")), metadata)


def test_a_failed_status_is_refused(idp, metadata):
    _, response = issued(idp, metadata)

    def fail(root):
        root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode").set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
    refused("status_not_success", edited(response, fail), metadata)


def test_an_encrypted_assertion_is_refused(idp, metadata):
    _, response = issued(idp, metadata)

    def encrypt(root):
        root.find(f"{{{SAML}}}Assertion").tag = f"{{{SAML}}}EncryptedAssertion"
    refused("encrypted_assertion", edited(response, encrypt), metadata)


def test_garbage_is_malformed(metadata):
    for junk in ("not base64!", base64.b64encode(b"<unclosed").decode(), base64.b64encode(b"<a/>").decode()):
        refused("malformed", junk, metadata)


# In a browser

CHROMIUM = "/usr/bin/chromium"


def test_chromium_logs_in_at_the_idp_and_posts_the_response_to_the_acs(idp, metadata):
    """The IdP's pages in a real browser: our redirect, its login form, its auto-submitting POST to
    the ACS (intercepted here: the service's routes are tested where they are integrated)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt")
        pytest.skip("NOT TESTED IN A BROWSER: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    request_id, url = start(metadata, force_authn=True)
    posted = []

    def acs(route):
        posted.append(route.request.post_data)
        route.fulfill(status=200, content_type="text/html", body="<p>received</p>")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route(ACS, acs)
            page.goto(url)
            page.fill("input[name=email]", "Carol@Example.org")
            page.check("input[name=mfa]")
            page.click("button[type=submit]")
            page.wait_for_selector("text=received")
        finally:
            browser.close()
    form = urllib.parse.parse_qs(posted[0])
    assert form["RelayState"] == ["state-1"]
    assertion = read(form["SAMLResponse"][0], metadata)
    assert (assertion.email, assertion.in_response_to, assertion.authn_context_class_ref) == (
        "carol@example.org", request_id, REFEDS_MFA)
