// The emailed link of an email change: /confirm-email#token=… moves the account to the new
// address; every session ends, so on to the login page with the new address.
import * as api from "../api.js";
import {explain, h, link, setFlash, view} from "../dom.js";
import {navigate} from "../router.js";
import {session} from "../session.js";

export async function confirmEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  view("Confirm your new email address", h("p", {role: "status"}, "Confirming…"));
  try {
    const changed = await api.post("/v1/account/email/confirm", {token});
    // The token leaves the address bar (and the history) once used.
    history.replaceState({}, "", "/confirm-email");
    session.account = null;
    setFlash("success", `Your email address is now ${changed.email}. Every session was ended: log in with it.`);
    navigate("/login", true);
  } catch (error) {
    view("Confirm your new email address", h("p", {class: "error", role: "alert"}, explain(error)),
         h("p", {}, "Ask for a new link from your ", link("/account", "account page"), "."));
  }
}
