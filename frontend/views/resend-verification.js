// "Resend the verification email": asks for a new sign-up link (earlier ones keep working;
// each email says when and from where its sign-up was made). The answer is the same whatever the address, so the page says the same too.
import * as api from "../api.js";
import {alertBox, busy, field, h, statusBox} from "../dom.js";

export function resendVerification(email = "") {
  const box = alertBox();
  const status = statusBox();
  const button = h("button", {type: "submit", class: "secondary"}, "Resend the verification email");
  const form = h("form", {novalidate: true, "aria-label": "Resend the verification email"},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true,
                               id: "f-resend-email", value: email}),
    box, status, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.textContent = "";
    busy(button, box, async () => {
      const answer = await api.post("/v1/accounts/verification-email", {email: form.email.value});
      status.textContent = `${answer.message} Use the link whose sign-up you made: each email says when and from where.`;
    });
  });
  return h("section", {}, h("h2", {}, "Didn't get the link?"), form);
}
