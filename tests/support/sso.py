"""SSO connections for tests that need one but no identity provider to answer: a SAML IdP's
metadata with a fresh self-signed certificate, and connections added as an operator would."""
import html

from tests.support.saml_idp import REFEDS_MFA, SAMLP, self_signed_certificate

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
OPERATOR = "arn:aws:iam::123456789012:user/test-operator"
# The discard port on this machine: accepted as an issuer (loopback http), never answers.
UNREACHABLE_ISSUER = "http://127.0.0.1:9/"


def idp_metadata(entity_id: str = "https://idp.example.com/saml", sso_url: str = "https://idp.example.com/sso") -> str:
    """A minimal valid EntityDescriptor of a SAML IdP (nothing is ever sent to it)."""
    _, certificate = self_signed_certificate("test-idp")
    body = "".join(line for line in certificate.splitlines() if "CERTIFICATE" not in line)
    return f"""<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="{html.escape(entity_id)}">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{body}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="{REDIRECT}" Location="{html.escape(sso_url)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def add_connection(*domains: str, protocol: str = "saml", enforced: bool = False) -> dict:
    """A connection for `domains` (on the local AWS), enforced or not; its identity provider
    is never asked anything (an OIDC issuer is only read at a login's start)."""
    from chalicelib.services.sso import connections

    if protocol == "saml":
        added = connections.add_saml(name="Test IdP", domains=list(domains), metadata_xml=idp_metadata(),
                                     authn_context_class_refs=[REFEDS_MFA], operator_arn=OPERATOR)
    else:
        added = connections.add_oidc(name="Test IdP", domains=list(domains), issuer=UNREACHABLE_ISSUER,
                                     client_id="mfa-service", client_secret="not-used", operator_arn=OPERATOR)
    if enforced:
        connections.set_enforced(added["connection_id"], True, OPERATOR)
    return {**added, "enforced": enforced}
