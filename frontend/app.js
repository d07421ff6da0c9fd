// The reference web frontend: every screen a person needs, on the same origin as the API.
// Plain DOM and ES modules, no framework and no build step: views/ fill <main>, router.js
// routes links with data-link (history API), so the page works as static files behind any
// web server. What each type of verification method looks like is METHOD_UI (methods.js).
import {h, link, view} from "./dom.js";
import {navigate, renderNav, start} from "./router.js";
import {loadAccount, session} from "./session.js";
import {accountPage} from "./views/account.js";
import {cliLogin} from "./views/cli-login.js";
import {login} from "./views/login.js";
import {mailboxPage} from "./views/mailbox.js";
import {forgotPassword, resetPassword} from "./views/reset-password.js";
import {setup} from "./views/setup.js";
import {signup} from "./views/signup.js";
import {verifyEmail} from "./views/verify-email.js";
import {confirmEmail} from "./views/confirm-email.js";

async function home() {
  const account = await loadAccount();
  navigate(!account ? "/login" : account.enrollment_required ? "/setup" : "/account", true);
}

function notFound() {
  view("Page not found", h("p", {}, "There is nothing at this address. ", link("/", "Go to the start page"), "."));
}

fetch("/_dev/mailbox", {headers: {"X-Requested-With": "fetch"}}).then((r) => { session.devMailbox = r.ok; renderNav(); },
                                                                         () => {});
start({
  "/": home, "/signup": signup, "/login": login, "/verify-email": verifyEmail, "/setup": setup,
  "/account": accountPage, "/cli-login": cliLogin, "/dev/mailbox": mailboxPage,
  "/confirm-email": confirmEmail,
  "/forgot-password": forgotPassword, "/reset-password": resetPassword,
}, notFound);
