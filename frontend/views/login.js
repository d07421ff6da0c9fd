// Logging in: the password step, then a second factor (proofs.js) for the login attempt.
import * as api from "../api.js";
import {countdown} from "../countdown.js";
import {alertBox, busy, explain, field, h, link, setFlash, view} from "../dom.js";
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
      if (ended(error)) return;
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
  const scope = {base, submit, ended, pushStatus: () => api.get(base),
                 cancelPush: (challengeId) => api.del(`${base}/push/${challengeId}`)};
  const left = countdown(started.expires_at, (time) => `Time left to finish this login: ${time}.`, loginExpired,
                         {id: "login-countdown"});
  view("Verify it's you",
    h("p", {}, "Confirm this login with one of your verification methods."),
    h("section", {}, ...proofChoices(started.methods, box, scope, {autoStart: true}), box),
    left);
}

// The attempt is over (5 minutes after the password, or used): the page says so, with the way
// back to the password step. Answers whether `error` was that.
function ended(error) {
  if (!(error instanceof api.ApiError && error.code === "login_expired")) return false;
  loginExpired();
  return true;
}

function loginExpired() {
  if (location.pathname !== "/login" || document.querySelector("#login-countdown") === null) return;
  view("This login attempt expired",
    h("p", {}, "A login must be finished within a few minutes of entering the password, so this one has ended. " +
               "Nothing was changed on your account."),
    h("p", {}, link("/login", "Start again", {class: "button"})));
}

// Back where the login was asked for (the CLI login approval), or the start page.
function afterLogin() {
  const target = sessionStorage.getItem("returnTo");
  sessionStorage.removeItem("returnTo");
  navigate(target || "/", true);
}
