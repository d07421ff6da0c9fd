// Approving a command-line login (RFC 8628): the code the terminal shows, who asks, and a
// decision, which needs a fresh second factor.
import * as api from "../api.js";
import {alertBox, busy, h, setFlash, view, when} from "../dom.js";
import {navigate} from "../router.js";
import {loadAccount, session} from "../session.js";
import {withStepUp} from "../stepup.js";

export async function cliLogin() {
  if (!(await loadAccount()) || session.account.enrollment_required) {
    sessionStorage.setItem("returnTo", location.pathname + location.search);
    setFlash("notice", "Log in to approve the command-line login.");
    return navigate(session.account ? "/setup" : "/login", true);
  }
  const box = alertBox();
  const details = h("div", {});
  const code = h("input", {id: "user-code", name: "user_code", type: "text", autocomplete: "off", spellcheck: "false",
                           value: new URLSearchParams(location.search).get("user_code") || ""});
  const look = h("button", {type: "submit"}, "Continue");
  const form = h("form", {}, h("label", {for: "user-code"}, "The code your terminal shows"), code, h("br"), look);
  const decide = (decision, button) => busy(button, box, async () => {
    const result = await withStepUp(() => api.post("/v1/cli/logins/approve", {user_code: code.value.trim(), decision}));
    details.replaceChildren(h("p", {class: "success", role: "status"}, result.status === "approved"
      ? "Approved. You can go back to your terminal." : "Denied. The command-line login will not go ahead."));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(look, box, async () => {
      const asked = await api.get(`/v1/cli/logins/${encodeURIComponent(code.value.trim())}`);
      const approve = h("button", {type: "button"}, "Approve");
      const deny = h("button", {type: "button", class: "secondary"}, "Deny");
      approve.addEventListener("click", () => decide("approve", approve));
      deny.addEventListener("click", () => decide("deny", deny));
      details.replaceChildren(h("div", {class: "card"},
        h("p", {}, `"${asked.client_name}" asks to log in to your account.`),
        h("p", {class: "muted"}, `From ${asked.ip || "unknown"} (${asked.user_agent || "unknown client"}), ` +
                                 `started ${when(asked.created_at)}. Only approve if you started it.`),
        approve, deny));
    });
  });
  view("Approve a command-line login", h("section", {}, form, box, details));
}
