// A forgotten password: /forgot-password asks for the reset link, /reset-password#token=…
// (the emailed link) sets a new password. It logs nobody in: the next login still asks for
// the second factor.
import * as api from "../api.js";
import {alertBox, busy, field, h, link, newPasswordField, setFlash, view} from "../dom.js";
import {navigate} from "../router.js";
import {session} from "../session.js";

export function forgotPassword() {
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Email me a reset link");
  const form = h("form", {novalidate: true},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true}),
    box, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      const answer = await api.post("/v1/password-resets", {email: form.email.value});
      view("Check your email",
        h("p", {role: "status"}, answer.message),
        session.devMailbox ? h("p", {}, "Local stage: the email is in the ", link("/dev/mailbox", "dev mailbox"), ".")
                           : null,
        h("p", {}, link("/login", "Back to log in"), "."));
    });
  });
  view("Reset your password",
    h("p", {}, "We will email you a link to choose a new password. Your verification methods stay: you will " +
               "still need your second factor to log in."),
    h("section", {}, form), h("p", {}, link("/login", "Back to log in"), "."));
}

// The emailed token, kept in memory only: it leaves the address bar (and the history) once read.
let resetToken = "";

export function resetPassword() {
  if (location.hash) {
    resetToken = new URLSearchParams(location.hash.slice(1)).get("token") || "";
    history.replaceState({}, "", "/reset-password");
  }
  const token = resetToken;
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Set new password");
  const form = h("form", {novalidate: true},
    ...newPasswordField("New password"),
    box, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      await api.post("/v1/password-resets/confirm", {token, new_password: form.password.value});
      resetToken = "";
      session.account = null;
      setFlash("success", "Your password is changed and every session was ended. Log in with it: you will " +
                          "still need your second factor.");
      navigate("/login", true);
    });
  });
  view("Choose a new password", h("section", {}, form),
    h("p", {}, "Link expired or used? ", link("/forgot-password", "Ask for a new one"), "."));
}
