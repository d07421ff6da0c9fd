// Logging in: the password step, then a second factor (proofs.js) for the login attempt.
import * as api from "../api.js";
import {alertBox, busy, explain, field, h, link, setFlash, view, when} from "../dom.js";
import {proofChoices} from "../proofs.js";
import {navigate} from "../router.js";
import {loadAccount} from "../session.js";
import {resendVerification} from "./resend-verification.js";

export function login() {
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Continue");
  const form = h("form", {novalidate: true},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true}),
    ...field("Password", {name: "password", type: "password", autocomplete: "current-password", required: true}),
    box, button);
  const resend = h("div", {});
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      let started;
      try {
        started = await api.post("/v1/login", {email: form.email.value, password: form.password.value});
      } catch (error) {
        // Not verified yet: offer a new link right here.
        if (error instanceof api.ApiError && error.code === "email_not_verified") {
          resend.replaceChildren(resendVerification(form.email.value));
        }
        throw error;
      }
      if (started.enrollment_required) {
        await loadAccount();
        navigate("/setup");
      } else {
        secondFactor(started);
      }
    });
  });
  view("Log in", h("section", {}, form), resend, h("p", {}, link("/forgot-password", "Forgot password?")),
       h("p", {}, "New here? ", link("/signup", "Create an account"), "."));
}

function secondFactor(started) {
  const box = alertBox();
  const base = `/v1/login/${started.login_id}`;
  const submit = async (body) => {
    try {
      await api.post(`${base}/verify`, body);
    } catch (error) {
      if (error.status === 410) {
        setFlash("error", explain(error));
        navigate("/login", true);
        return;
      }
      throw error;
    }
    await loadAccount();
    afterLogin();
  };
  // The login attempt's status tells the push's answer (one push at a time per attempt).
  const scope = {base, submit, pushStatus: () => api.get(base)};
  view("Verify it's you",
    h("p", {}, "Choose how to confirm this login."),
    h("section", {}, ...proofChoices(started.methods, box, scope), box),
    h("p", {class: "muted"}, `This login attempt expires at ${when(started.expires_at)}.`));
}

// Back where the login was asked for (the CLI login approval), or the start page.
function afterLogin() {
  const target = sessionStorage.getItem("returnTo");
  sessionStorage.removeItem("returnTo");
  navigate(target || "/", true);
}
