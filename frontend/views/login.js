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
        // The organisation logs its people in through its identity provider: go there.
        if (error instanceof api.ApiError && error.code === "sso_required") {
          return startSso({connection_id: error.body.connection_id});
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
  const ssoBox = alertBox();
  const ssoButton = h("button", {type: "button", class: "secondary"}, "Log in with single sign-on");
  ssoButton.addEventListener("click", () => busy(ssoButton, ssoBox, async () => {
    if (!form.email.value) throw new Error("Enter your work email address first: its domain picks your organisation.");
    await startSso({email: form.email.value});
  }));
  view("Log in", h("section", {}, form), resend,
       h("section", {"aria-label": "Single sign-on"}, ssoButton, ssoBox),
       h("p", {}, link("/forgot-password", "Forgot password?")),
       h("p", {}, "New here? ", link("/signup", "Create an account"), "."));
}

// Off to the identity provider, which sends the browser back to the API's callback and on
// to `return_to` (where the login was asked for, e.g. a CLI login approval).
async function startSso(which) {
  const returnTo = sessionStorage.getItem("returnTo");
  const {redirect_url: url} = await api.post("/v1/sso/start", {...which, ...(returnTo ? {return_to: returnTo} : {})});
  sessionStorage.removeItem("returnTo");
  location.assign(url);
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
