// What the web frontend calls each type of verification method.
export const TYPE_NAMES = {
  totp: "Authenticator app",
  security_key: "Security key",
  built_in: "Built-in authenticator",
  recovery_codes: "Recovery codes",
  push: "Mobile app (push)",
  sms: "SMS (deprecated)",
};
