// The emailed link: /verify-email#token=… verifies the address, then on to the login page.
import * as api from "../api.js";
import {explain, h, link, setFlash, view} from "../dom.js";
import {navigate} from "../router.js";
import {resendVerification} from "./resend-verification.js";

export async function verifyEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  view("Verify your email", h("p", {role: "status"}, "Verifying…"));
  try {
    await api.post("/v1/accounts/verify-email", {token});
    // The token leaves the address bar (and the history) once used.
    history.replaceState({}, "", "/verify-email");
    setFlash("success", "Your email address is verified. You can log in now.");
    navigate("/login", true);
  } catch (error) {
    view("Verify your email", h("p", {class: "error", role: "alert"}, explain(error)),
         h("p", {}, link("/signup", "Sign up again"), " or ", link("/login", "log in"), "."),
         resendVerification());
  }
}
