// WebAuthn in the browser: the API sends options and expects credentials as JSON with
// base64url binary fields (PublicKeyCredential.toJSON()'s shape); the browser's calls take
// and give ArrayBuffers. Converted by hand so that browsers without parse*FromJSON work too.

export function toBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

export function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list) => (list || []).map((c) => ({...c, id: toBytes(c.id)}));

export function supported() {
  return typeof window.PublicKeyCredential === "function";
}

export async function platformAuthenticatorAvailable() {
  return supported() && PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable
    ? PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable() : false;
}

// PublicKeyCredential.toJSON()'s shape, with the response's own fields.
function toJSON(credential, response) {
  return {
    id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {clientDataJSON: toBase64url(credential.response.clientDataJSON), ...response},
  };
}

export async function create(options, signal) {
  const publicKey = {...options, challenge: toBytes(options.challenge),
                     user: {...options.user, id: toBytes(options.user.id)},
                     excludeCredentials: descriptors(options.excludeCredentials)};
  const credential = await navigator.credentials.create({publicKey, signal});
  const response = credential.response;
  return toJSON(credential, {
    attestationObject: toBase64url(response.attestationObject),
    transports: response.getTransports ? response.getTransports() : [],
  });
}

export async function get(options, signal) {
  const publicKey = {...options, challenge: toBytes(options.challenge),
                     allowCredentials: descriptors(options.allowCredentials)};
  const credential = await navigator.credentials.get({publicKey, signal});
  const response = credential.response;
  return toJSON(credential, {
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
    userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
  });
}

// What the browser's own WebAuthn errors mean for a person.
export function describeBrowserError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
      return "The security check was cancelled or timed out, or no matching authenticator answered. " +
             "Try again, or choose another method.";
    case "InvalidStateError":
      return "This authenticator is already registered on your account.";
    case "SecurityError":
      return "This page's address does not match the service's WebAuthn settings, so the browser refused.";
    case "NotSupportedError":
      return "This authenticator cannot do what the service asks (its algorithms or options).";
    case "AbortError":
      return "The security check was cancelled. Try again, or choose another method.";
    default:
      return null;
  }
}
