// The emailed link: /verify-email#token=… verifies the address, then on to the login page.
import * as api from "../api.js";
import {explain, h, link, setFlash, view} from "../dom.js";
import {navigate} from "../router.js";
import {resendVerification} from "./resend-verification.js";

export async function verifyEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  view("Verify your email", h("p", {role: "status"}, "Verifying…"));
  try {
    const verified = await api.post("/v1/accounts/verify-email", {token});
    // The token leaves the address bar (and the history) once used.
    history.replaceState({}, "", "/verify-email");
    setFlash("success", verified.already_verified
      ? "This link was already used: your email address is verified. You can log in."
      : "Your email address is verified. You can log in now.");
    navigate("/login", true);
  } catch (error) {
    if (error instanceof api.ApiError && error.code === "email_already_verified") {
      // Another sign-up of this address was verified first: its password is the one that works.
      history.replaceState({}, "", "/verify-email");
      return view("Verify your email",
        h("p", {class: "notice", role: "status"}, "This email address is already verified, through the link of " +
                                                  "another sign-up. This link is no longer needed."),
        h("p", {}, "Log in with the password you chose in that sign-up. If you do not remember it, reset it."),
        h("p", {}, link("/login", "Log in"), " or ", link("/forgot-password", "reset your password"), "."));
    }
    view("Verify your email", h("p", {class: "error", role: "alert"}, explain(error)),
         h("p", {}, link("/signup", "Sign up again"), " or ", link("/login", "log in"), "."),
         resendVerification());
  }
}
