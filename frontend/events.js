// The security log in sentences: "Login failed: wrong code (Authenticator app)" rather than
// the API's event kinds and reasons.
import {typeName} from "./methods.js";

const EVENTS = {
  signup: "Signed up",
  signup_existing: "Someone tried to sign up again with this address",
  email_verified: "Email address verified",
  email_change_requested: "Email address change requested",
  email_changed: "Email address changed",
  login_succeeded: "Login succeeded",
  login_failed: "Login failed",
  enrollment_session_started: "Logged in to set up a verification method",
  step_up_succeeded: "Confirmed it's you",
  step_up_failed: "Confirming it's you failed",
  sso_login_succeeded: "Logged in with single sign-on",
  sso_login_refused: "Single sign-on login refused",
  account_created_by_sso: "Account created by single sign-on",
  cli_login_approved: "CLI login approved",
  cli_login_denied: "CLI login denied",
  cli_login: "CLI logged in",
  method_added: "Verification method added",
  method_imported: "Verification method imported",
  method_renamed: "Verification method renamed",
  method_removed: "Verification method removed",
  recovery_codes_generated: "New recovery codes made",
  push_requested: "Push approval sent to your phone",
  push_approved: "Push approved on your phone",
  push_denied: "Push denied on your phone",
  push_expired: "Push request expired",
  push_fraud_reported: "Push reported as not yours",
  push_cancelled: "Push request withdrawn in the browser",
  password_changed: "Password changed",
  password_change_failed: "Password change failed",
  password_reset_requested: "Password reset requested",
  password_reset: "Password reset",
  session_revoked: "Session ended",
  other_sessions_revoked: "Other sessions ended",
  lockout: "Locked for a while after failed verifications",
  hard_lock: "Locked after too many failed verifications",
  support_unlock: "Unlocked by support",
  mfa_reset_scheduled: "Reset of verification methods scheduled",
  mfa_reset_cancelled: "Reset of verification methods cancelled",
  mfa_reset_done: "Verification methods reset",
};

const REASONS = {
  invalid_password: "wrong password",
  wrong_password: "wrong password",
  invalid_code: "wrong code",
  webauthn_failed: "the authenticator's answer was not accepted",
  push_not_approved: "the push was not approved",
  mfa_locked: "locked for a while",
  account_locked: "account locked",
  denied: "denied",
  wrong_number: "wrong number chosen",
  fraud_report: "reported as not yours",
  expired: "expired",
};

// "cli_login_whatever" → "CLI login whatever": words for a kind this table does not know yet.
function words(code) {
  const text = code.replace(/_/g, " ").replace(/\b(cli|sso|mfa|ip)\b/g, (w) => w.toUpperCase());
  return text[0].toUpperCase() + text.slice(1);
}

// One event (from GET /v1/account/events) as a sentence.
export function eventSentence(event) {
  const details = event.details || {};
  let text = EVENTS[event.kind] || words(event.kind);
  if (details.reason) text += `: ${REASONS[details.reason] || words(details.reason).toLowerCase()}`;
  // The kind's name without its own brackets ("SMS (deprecated)" → "SMS"), as it goes in brackets.
  const kind = details.method_type ? typeName(details.method_type).replace(/\s*\(.*\)$/, "") : null;
  const method = [kind, details.label && `"${details.label}"`].filter(Boolean).join(" ");
  // "New recovery codes made", not "… (Recovery codes)".
  if (method && !text.toLowerCase().includes(method.toLowerCase())) text += ` (${method})`;
  if (details.client_name) text += `: "${details.client_name}"`;
  return text;
}
