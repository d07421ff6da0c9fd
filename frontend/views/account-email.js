// The account page's "Email address" section: change it (with a fresh second factor); the
// change happens when the link mailed to the new address is used.
import * as api from "../api.js";
import {alertBox, busy, field, h, statusBox} from "../dom.js";
import {withStepUp} from "../stepup.js";

// `changed()` runs after a change is requested (the account page reads its security log again).
export function emailSection(current, changed = async () => {}) {
  const box = alertBox();
  const status = statusBox();
  const change = h("button", {type: "button", class: "secondary"}, "Change email");
  const area = h("div", {}, change);
  change.addEventListener("click", () => {
    const save = h("button", {type: "submit"}, "Send the confirmation link");
    const cancel = h("button", {type: "button", class: "secondary", onclick: () => area.replaceChildren(change)},
                     "Cancel");
    const form = h("form", {novalidate: true, "aria-label": "Change email"},
      ...field("New email address", {name: "new_email", type: "email", autocomplete: "email", required: true}),
      save, cancel);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      status.textContent = "";
      busy(save, box, async () => {
        const answer = await withStepUp(() => api.post("/v1/account/email", {new_email: form.new_email.value}));
        if (!answer) return;
        area.replaceChildren(change);
        status.textContent = `${answer.message} Your current address stays until then; every session will end ` +
                             "when it changes.";
        await changed();
      });
    });
    area.replaceChildren(form);
    form.new_email.focus();
  });
  return h("section", {"aria-labelledby": "email-title"}, h("h2", {id: "email-title"}, "Email address"),
           h("p", {}, current), area, box, status);
}
