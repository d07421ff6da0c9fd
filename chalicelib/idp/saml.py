"""SAML 2.0 for a service provider: the IdP's metadata, our metadata, the AuthnRequest (HTTP-Redirect
binding) and the checks on the Response posted to our ACS (HTTP-POST binding).

Every value returned comes from the element a signature covers, as signxml hands it back after
verifying (never from the posted tree, so a second, unsigned assertion cannot be read: signature
wrapping). Unsigned parts of the posted Response are only ever read to refuse. Single use of the
request (InResponseTo) and of the assertion id is the caller's: it stores them.
"""
import base64
import urllib.parse
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import SignXMLException

from chalicelib import clock
from chalicelib.idp import IdpRefused

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "md": MD, "ds": DS}
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
EMAIL_ATTRIBUTES = ("email", "mail", "urn:oid:0.9.2342.19200300.100.1.3",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")
# One IdP's metadata is a few kilobytes, a Response tens; the caps keep parsing cheap.
MAX_METADATA_BYTES = 1 << 20
MAX_RESPONSE_BYTES = 256 << 10
MAX_RELAY_STATE = 80  # SAML bindings §3.4.3: RelayState MUST NOT exceed 80 bytes


@dataclass(frozen=True)
class IdpMetadata:
    """What we trust about one IdP. `certificates` are PEM strings; a signature by any one is accepted
    (several while the IdP rolls its key over)."""
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]


@dataclass(frozen=True)
class Assertion:
    """A verified assertion. Times are Unix seconds; `not_on_or_after` is the earliest expiry in the
    assertion, until when the caller keeps `assertion_id` to refuse a replay."""
    assertion_id: str
    issuer: str
    name_id: str | None
    email: str | None
    in_response_to: str
    authn_context_class_ref: str | None
    authn_instant: int | None
    not_on_or_after: int
    session_index: str | None


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _parse(data: bytes, reason: str) -> etree._Element:
    """Parse untrusted XML: no DTD (so no entity expansion, bombs or external entities), no network."""
    if b"<!DOCTYPE" in data:
        raise IdpRefused(reason, "a DOCTYPE is not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise IdpRefused(reason, f"not well-formed XML: {error}") from None
    # Another encoding (UTF-16) could hide the bytes checked above.
    if root.getroottree().docinfo.doctype:
        raise IdpRefused(reason, "a DOCTYPE is not allowed")
    return root


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _iso(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: str | None) -> int | None:
    """An xs:dateTime as Unix seconds (SAML times are UTC; a missing zone is read as UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise IdpRefused("malformed", f"not a time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _pem(der_base64: str) -> str:
    """A metadata X509Certificate (base64 DER) as PEM, refused unless it is a certificate."""
    compact = "".join(der_base64.split())
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(compact, validate=True))
    except ValueError:
        raise IdpRefused("invalid_metadata", "a signing certificate cannot be read") from None
    return certificate.public_bytes(Encoding.PEM).decode()


def parse_idp_metadata(xml: str | bytes) -> IdpMetadata:
    """The IdP's entity id, HTTP-Redirect SSO URL and signing certificates, from its metadata (an
    EntityDescriptor, or an EntitiesDescriptor holding exactly one IdP). The metadata's own
    signature is not checked: the operator brings it over a trusted channel."""
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_METADATA_BYTES:
        raise IdpRefused("invalid_metadata", "too large")
    root = _parse(data, "invalid_metadata")
    if root.tag == _q(MD, "EntityDescriptor"):
        candidates = [root]
    elif root.tag == _q(MD, "EntitiesDescriptor"):
        candidates = root.findall("md:EntityDescriptor", NS)
    else:
        raise IdpRefused("invalid_metadata", f"unexpected root element {root.tag}")
    idps = [(entity, sso) for entity in candidates for sso in entity.findall("md:IDPSSODescriptor", NS)
            if SAMLP in (sso.get("protocolSupportEnumeration") or "").split()]
    if len(idps) != 1:
        raise IdpRefused("invalid_metadata", f"expected one SAML 2.0 IDPSSODescriptor, found {len(idps)}")
    entity, descriptor = idps[0]
    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise IdpRefused("invalid_metadata", "no entityID")
    sso_urls = [service.get("Location") for service in descriptor.findall("md:SingleSignOnService", NS)
                if service.get("Binding") == BINDING_REDIRECT]
    sso_url = next((url.strip() for url in sso_urls if url and url.strip().startswith(("https://", "http://"))), None)
    if sso_url is None:
        raise IdpRefused("invalid_metadata", "no SingleSignOnService with the HTTP-Redirect binding")
    certificates = tuple(_pem(text)
                         for key in descriptor.findall("md:KeyDescriptor", NS) if key.get("use") in (None, "signing")
                         for text in (_text(c) for c in key.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS))
                         if text)
    if not certificates:
        raise IdpRefused("invalid_metadata", "no signing certificate")
    return IdpMetadata(entity_id=entity_id, sso_url=sso_url, certificates=certificates)


def sp_metadata(*, entity_id: str, acs_url: str) -> str:
    """Our metadata for the IdP's operator: unsigned requests, signed assertions wanted, one
    HTTP-POST ACS, email addresses as NameIDs."""
    root = etree.Element(_q(MD, "EntityDescriptor"), nsmap={"md": MD}, entityID=entity_id)
    descriptor = etree.SubElement(root, _q(MD, "SPSSODescriptor"), AuthnRequestsSigned="false",
                                  WantAssertionsSigned="true", protocolSupportEnumeration=SAMLP)
    etree.SubElement(descriptor, _q(MD, "NameIDFormat")).text = NAMEID_EMAIL
    etree.SubElement(descriptor, _q(MD, "AssertionConsumerService"), Binding=BINDING_POST, Location=acs_url,
                     index="0", isDefault="true")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def new_request_id() -> str:
    """An AuthnRequest ID: an xs:ID (so it starts with "_", not a digit) with 128 random bits."""
    return "_" + clock.random_id()


def authn_request_url(*, sso_url: str, request_id: str, sp_entity_id: str, acs_url: str, now: int,
                      authn_context_class_refs: list[str], force_authn: bool, relay_state: str | None) -> str:
    """The URL that sends the browser to the IdP with our AuthnRequest (HTTP-Redirect binding:
    raw DEFLATE, base64, URL-encoded; unsigned, as our metadata says)."""
    if not authn_context_class_refs:
        raise ValueError("at least one AuthnContextClassRef is required")
    if relay_state is not None and len(relay_state.encode()) > MAX_RELAY_STATE:
        raise ValueError("RelayState is limited to 80 bytes")
    request = etree.Element(_q(SAMLP, "AuthnRequest"), nsmap={"samlp": SAMLP, "saml": SAML}, ID=request_id,
                            Version="2.0", IssueInstant=_iso(now), Destination=sso_url,
                            AssertionConsumerServiceURL=acs_url, ProtocolBinding=BINDING_POST)
    if force_authn:
        request.set("ForceAuthn", "true")
    etree.SubElement(request, _q(SAML, "Issuer")).text = sp_entity_id
    context = etree.SubElement(request, _q(SAMLP, "RequestedAuthnContext"), Comparison="exact")
    for ref in authn_context_class_refs:
        etree.SubElement(context, _q(SAML, "AuthnContextClassRef")).text = ref
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE: no zlib header
    deflated = compressor.compress(etree.tostring(request)) + compressor.flush()
    query = {"SAMLRequest": base64.b64encode(deflated).decode()}
    if relay_state is not None:
        query["RelayState"] = relay_state
    return sso_url + ("&" if "?" in sso_url else "?") + urllib.parse.urlencode(query)


def _verified(root: etree._Element, signed: etree._Element, location: str, idp: IdpMetadata,
              now: int) -> etree._Element:
    """The element `signed` as its enveloped signature covers it, checked against the IdP's certificates
    (SHA-1 is refused: signxml's default). The signature must reference `signed` itself, not another
    element elsewhere in the document."""
    config = SignatureConfiguration(location=location, verification_time=datetime.fromtimestamp(now, UTC))
    failure = ""
    for certificate in idp.certificates:
        try:
            result = XMLVerifier().verify(root, x509_cert=certificate, expect_config=config, id_attribute="ID")
        except SignXMLException as error:
            failure = str(error)
            continue
        covered = result.signed_xml
        if covered is None or covered.tag != signed.tag or covered.get("ID") != signed.get("ID"):
            raise IdpRefused("invalid_signature", f"the signature does not cover the {etree.QName(signed).localname}")
        return covered
    raise IdpRefused("invalid_signature", failure)


def _signed_assertion(root: etree._Element, idp: IdpMetadata, now: int) -> tuple[etree._Element, etree._Element]:
    """(response, assertion) to read: from the signed Response when it is signed, else the Response as
    posted (read only to refuse) and the signed Assertion."""
    if root.find("ds:Signature", NS) is not None:
        response = _verified(root, root, "./", idp, now)
        assertions = response.findall("saml:Assertion", NS)
        if len(assertions) != 1:
            raise IdpRefused("malformed", "the signed Response holds no Assertion")
        return response, assertions[0]
    assertion = root.find("saml:Assertion", NS)
    if assertion is None:
        raise IdpRefused("malformed", "the Assertion is not in the Response")
    if assertion.find("ds:Signature", NS) is None:
        raise IdpRefused("unsigned", "neither the Response nor the Assertion is signed")
    return root, _verified(root, assertion, f"./{_q(SAML, 'Assertion')}/", idp, now)


def _subject_confirmation(assertion: etree._Element, acs_url: str, now: int, skew: int) -> tuple[str, int]:
    """(InResponseTo, NotOnOrAfter) of the bearer confirmation addressed to our ACS."""
    data = [confirmation.find("saml:SubjectConfirmationData", NS)
            for confirmation in assertion.findall("saml:Subject/saml:SubjectConfirmation", NS)
            if confirmation.get("Method") == CM_BEARER]
    data = [d for d in data if d is not None]
    if not data:
        raise IdpRefused("malformed", "no bearer SubjectConfirmationData")
    ours = next((d for d in data if d.get("Recipient") == acs_url), None)
    if ours is None:
        raise IdpRefused("wrong_recipient", f"Recipient {data[0].get('Recipient')!r}")
    not_on_or_after = _instant(ours.get("NotOnOrAfter"))
    if not_on_or_after is None:
        raise IdpRefused("malformed", "the bearer confirmation has no NotOnOrAfter")
    if not_on_or_after <= now - skew:
        raise IdpRefused("expired", "the bearer confirmation has expired")
    in_response_to = ours.get("InResponseTo")
    if not in_response_to:
        raise IdpRefused("missing_in_response_to", "unsolicited responses are not accepted")
    return in_response_to, not_on_or_after


def _conditions(assertion: etree._Element, sp_entity_id: str, now: int, skew: int) -> int | None:
    """Checks the Conditions; returns their NotOnOrAfter."""
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise IdpRefused("wrong_audience", "no Conditions, so no AudienceRestriction")
    not_before = _instant(conditions.get("NotBefore"))
    if not_before is not None and not_before > now + skew:
        raise IdpRefused("not_yet_valid", f"NotBefore {conditions.get('NotBefore')}")
    not_on_or_after = _instant(conditions.get("NotOnOrAfter"))
    if not_on_or_after is not None and not_on_or_after <= now - skew:
        raise IdpRefused("expired", f"NotOnOrAfter {conditions.get('NotOnOrAfter')}")
    # Every AudienceRestriction must name us (SAML core §2.5.1.4), and there must be one.
    restrictions = [[_text(a) for a in r.findall("saml:Audience", NS)]
                    for r in conditions.findall("saml:AudienceRestriction", NS)]
    if not restrictions or any(sp_entity_id not in audiences for audiences in restrictions):
        raise IdpRefused("wrong_audience", f"audiences {restrictions}")
    return not_on_or_after


def _email(assertion: etree._Element) -> str | None:
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        if attribute.get("Name") in EMAIL_ATTRIBUTES:
            value = _text(attribute.find("saml:AttributeValue", NS))
            if value:
                return value.lower()
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    if name_id is not None and name_id.get("Format") == NAMEID_EMAIL and _text(name_id):
        return _text(name_id).lower()
    return None


def read_response(saml_response: str, *, idp: IdpMetadata, sp_entity_id: str, acs_url: str, now: int,
                  skew: int = 120) -> Assertion:
    """The assertion in a Response posted to our ACS (`saml_response`: the base64 SAMLResponse
    parameter), once it is signed by the IdP, meant for us and fresh; else IdpRefused. The
    caller still checks that `in_response_to` names a request this browser started, that
    `assertion_id` was not seen before, and that `authn_context_class_ref` means MFA (it
    knows the person by then, for its refusal and log)."""
    compact = "".join(saml_response.split())
    if len(compact) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise IdpRefused("malformed", "too large")
    try:
        data = base64.b64decode(compact, validate=True)
    except ValueError:
        raise IdpRefused("malformed", "SAMLResponse is not base64") from None
    root = _parse(data, "malformed")
    if root.tag != _q(SAMLP, "Response"):
        raise IdpRefused("malformed", f"unexpected root element {root.tag}")
    status = root.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != STATUS_SUCCESS:
        raise IdpRefused("status_not_success", status.get("Value") if status is not None else "no StatusCode")
    if next(root.iter(_q(SAML, "EncryptedAssertion")), None) is not None:
        raise IdpRefused("encrypted_assertion", "encrypted assertions are not supported")
    # Anywhere in the document: a wrapped copy hidden in Extensions or a ds:Object counts too.
    count = sum(1 for _ in root.iter(_q(SAML, "Assertion")))
    if count != 1:
        raise IdpRefused("multiple_assertions" if count else "malformed", f"{count} assertions")

    response, assertion = _signed_assertion(root, idp, now)
    issuers = [_text(assertion.find("saml:Issuer", NS))]
    if response.find("saml:Issuer", NS) is not None:
        issuers.append(_text(response.find("saml:Issuer", NS)))
    if any(issuer != idp.entity_id for issuer in issuers):
        raise IdpRefused("wrong_issuer", f"issuer {issuers}")
    if response.get("Destination") is not None and response.get("Destination") != acs_url:
        raise IdpRefused("wrong_destination", f"Destination {response.get('Destination')!r}")
    in_response_to, confirmation_expiry = _subject_confirmation(assertion, acs_url, now, skew)
    if response.get("InResponseTo") is not None and response.get("InResponseTo") != in_response_to:
        raise IdpRefused("in_response_to_mismatch", "the Response and its assertion answer different requests")
    conditions_expiry = _conditions(assertion, sp_entity_id, now, skew)

    statements = assertion.findall("saml:AuthnStatement", NS)
    if len(statements) != 1:
        raise IdpRefused("malformed", f"{len(statements)} AuthnStatements")
    statement = statements[0]
    context = _text(statement.find("saml:AuthnContext/saml:AuthnContextClassRef", NS))
    assertion_id = assertion.get("ID")
    if not assertion_id:
        raise IdpRefused("malformed", "the assertion has no ID")
    return Assertion(
        assertion_id=assertion_id,
        issuer=idp.entity_id,
        name_id=_text(assertion.find("saml:Subject/saml:NameID", NS)),
        email=_email(assertion),
        in_response_to=in_response_to,
        authn_context_class_ref=context,
        authn_instant=_instant(statement.get("AuthnInstant")),
        not_on_or_after=min(t for t in (confirmation_expiry, conditions_expiry) if t is not None),
        session_index=statement.get("SessionIndex"),
    )
