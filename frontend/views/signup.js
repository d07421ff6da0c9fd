// Signing up: an account is created, and a link to verify the address is emailed.
import * as api from "../api.js";
import {alertBox, busy, field, h, link, newPasswordField, view} from "../dom.js";
import {session} from "../session.js";

export function signup() {
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Create account");
  const form = h("form", {novalidate: true},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true}),
    ...newPasswordField("Password"),
    box, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      await api.post("/v1/accounts", {email: form.email.value, password: form.password.value});
      view("Check your email",
        h("p", {role: "status"}, `We sent a link to ${form.email.value}. Open it to verify your address; ` +
          "it works once and expires in 24 hours."),
        session.devMailbox ? h("p", {}, "Local stage: the email is in the ", link("/dev/mailbox", "dev mailbox"), ".")
                           : null,
        h("p", {}, link("/login", "Log in"), " once your address is verified."));
    });
  });
  view("Create your account", h("section", {}, form),
       h("p", {}, "Already have an account? ", link("/login", "Log in"), "."));
}
