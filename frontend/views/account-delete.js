// The account page's "Delete account" section: asks for confirmation, then (with a fresh
// second factor) deletes the account for good and leaves the person logged out.
import * as api from "../api.js";
import {alertBox, busy, h, setFlash} from "../dom.js";
import {navigate} from "../router.js";
import {session} from "../session.js";
import {withStepUp} from "../stepup.js";

export function deleteSection() {
  const box = alertBox();
  const start = h("button", {type: "button", class: "danger", id: "delete-account"}, "Delete account");
  const area = h("div", {}, start);
  start.addEventListener("click", () => {
    const yes = h("button", {type: "button", class: "danger"}, "Yes, delete my account for good");
    const no = h("button", {type: "button", class: "secondary", onclick: () => { area.replaceChildren(start); start.focus(); }},
                 "Keep my account");
    yes.addEventListener("click", () => busy(yes, box, async () => {
      const answer = await withStepUp(() => api.del("/v1/account", {confirm: true}));
      if (!answer) return;
      session.account = null;
      setFlash("success", "Your account is deleted. We emailed you a confirmation. You are logged out.");
      navigate("/login", true);
    }));
    area.replaceChildren(
      h("p", {role: "alert"}, "Delete your account? Your verification methods, paired devices and every session end " +
        "now, and this cannot be undone."), yes, no);
    no.focus();
  });
  return h("section", {"aria-labelledby": "delete-title"}, h("h2", {id: "delete-title"}, "Delete account"),
    h("p", {class: "muted"}, "Deletes the account and everything it holds; your email address becomes free."),
    area, box);
}
