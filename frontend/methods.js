// What the web frontend knows about each type of verification method, in one table.
import * as api from "./api.js";
import {pushPanel, sentCodePanel, totpPanel, webauthnPanel} from "./enrolment.js";

// A picker's button text: "What: label", without the label when it only repeats what
// ("Authenticator app", not "Authenticator app: Authenticator app").
const choiceText = (what, method, ...same) => {
  const label = (method.label || "").trim();
  const repeats = !label || [what, ...same].some((text) => text.toLowerCase() === label.toLowerCase());
  return repeats ? what : `${what}: ${label}`;
};

// Verify request bodies.
const codeProof = (method, code) => ({method_id: method.id, code});
const credentialProof = (method, credential) => ({credential});

// METHOD_UI[type]: everything the login method picker and the step-up dialog (proofs.js), the
// enrolment picker (views/setup.js) and the account page need for one type of method, in the
// order they are offered. A type missing here is neither offered nor addable. An entry holds:
//   name       what the account page and the security log call the type.
//   choice     (method) => the picker's button text; with oneChoice: true one button stands for
//              all the methods of the type (WebAuthn: the browser finds the credential).
//   begins     true when the proof answers a challenge the API begins first (POST
//              {scope.base}/challenges {method_id}, see beginChallenge), answered as {type: "webauthn",
//              public_key, expires_at} | {type: "push", challenge_id, number, expires_at} |
//              {type: "sms" | "email_code", sent_to_hint, expires_at}; a typed code from an app or a
//              list needs none.
//   proofForm  how the proof is collected (proofs.js PROOF_FORMS): {kind: "code", label(method,
//              challenge), numeric} | {kind: "authenticator"} (WebAuthn) | {kind: "push"} (shows
//              the number, polls until approved).
//   toProof    (method, answer, challenge) => the verify request's body; `answer` is the code typed,
//              the WebAuthn credential, or the approved push's challenge_id.
//   enroll     {button, panel({onDone, withStepUp})}: the enrolment picker's button and the panel it
//              opens (enrolment.js), or null when the type cannot be added there.
//   detail     optional (method) => a second line in the methods table (the device, the phone).
//   listed     false when the type is not a row of the methods table (it has its own section).
export const METHOD_UI = {
  push: {
    name: "Mobile app (push)",
    choice: (method) => choiceText("Approve on your phone", method, "Mobile app (push)", "Mobile app", "Phone"),
    begins: true,
    proofForm: {kind: "push"},
    toProof: (method, challengeId) => ({challenge_id: challengeId}),
    enroll: {button: "Mobile app (push)", panel: pushPanel},
    detail: (method) => method.device_name,
  },
  totp: {
    name: "Authenticator app",
    choice: (method) => choiceText("Authenticator app", method),
    begins: false,
    proofForm: {kind: "code", label: (method) => `6-digit code from ${method.label}`, numeric: true},
    toProof: codeProof,
    enroll: {button: "Authenticator app", panel: totpPanel},
  },
  security_key: {
    name: "Security key",
    choice: () => "Use a security key",
    oneChoice: true,
    begins: true,
    proofForm: {kind: "authenticator"},
    toProof: credentialProof,
    enroll: {button: "Security key", panel: (enrolment) => webauthnPanel(enrolment, {
      type: "security_key", label: "Security key", register: "Register security key",
      intro: "Insert your security key (YubiKey, Titan Key…) and touch it when the browser asks."})},
  },
  built_in: {
    name: "Built-in authenticator",
    choice: () => "Use this device's built-in authenticator (Touch ID, Windows Hello)",
    oneChoice: true,
    begins: true,
    proofForm: {kind: "authenticator"},
    toProof: credentialProof,
    enroll: {button: "Built-in authenticator", panel: (enrolment) => webauthnPanel(enrolment, {
      type: "built_in", label: "This device", register: "Register built-in authenticator", platform: true,
      intro: "Use this device's fingerprint, face or PIN unlock (Touch ID, Windows Hello) when the browser asks."})},
  },
  recovery_codes: {
    name: "Recovery codes",
    choice: () => "Use a recovery code",
    begins: false,
    proofForm: {kind: "code", label: () => "One of your recovery codes", numeric: false},
    toProof: codeProof,
    enroll: null,   // generated in the account page's own "Recovery codes" section
    listed: false,
  },
  email_code: {
    name: "Email code",
    choice: (method) => choiceText("Email a code", method, "Email code"),
    begins: true,
    proofForm: {kind: "code", label: (method, challenge) => `6-digit code emailed to ${challenge.sent_to_hint}`,
                numeric: true},
    toProof: codeProof,
    enroll: {button: "Email code (backup)", panel: (enrolment) => sentCodePanel(enrolment, {
      type: "email_code", label: "Email", start: "Email me a code",
      intro: "A backup: a code mailed to your account's address when you ask for one. Email is weaker than the " +
             "other methods, so keep another one too."})},
  },
  sms: {
    name: "SMS (deprecated)",
    choice: (method) => `Text a code to ${method.label} (deprecated)`,
    begins: true,
    proofForm: {kind: "code", label: (method, challenge) => `6-digit code texted to ${challenge.sent_to_hint}`,
                numeric: true},
    toProof: codeProof,
    enroll: null,   // deprecated: legacy SMS methods can be used, not added
    detail: (method) => method.phone,
  },
};

// Begins a challenge for `method` in `scope` (the login attempt, or the session's step-up:
// scope.base is /v1/login/{login_id} or /v1/account/step-up): the one place that does.
export const beginChallenge = async (scope, method) => (METHOD_UI[method.type].begins
  ? api.post(`${scope.base}/challenges`, {method_id: method.id})
  : {type: "none"});

export const typeName = (type) => METHOD_UI[type]?.name || type;
