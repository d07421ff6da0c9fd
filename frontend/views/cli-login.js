// Approving a command-line login (RFC 8628): the code the terminal shows, who asks, and a
// decision, which needs a fresh second factor.
import * as api from "../api.js";
import {alertBox, busy, h, setFlash, view, when} from "../dom.js";
import {navigate} from "../router.js";
import {loadAccount, session} from "../session.js";
import {withStepUp} from "../stepup.js";

// "bcdf ghjk", "BCDFGHJK" → "BCDF-GHJK", as the terminal shows it (the API accepts all of these
// too); anything else is sent as typed, for the API to say it is not found.
export function userCodeAsShown(typed) {
  const raw = typed.toUpperCase().replace(/[\s-]/g, "");
  return /^[A-Z]{8}$/.test(raw) ? `${raw.slice(0, 4)}-${raw.slice(4)}` : typed.trim();
}

export async function cliLogin() {
  if (!(await loadAccount()) || session.account.enrollment_required) {
    sessionStorage.setItem("returnTo", location.pathname + location.search);
    setFlash("notice", "Log in to approve the command-line login.");
    return navigate(session.account ? "/setup" : "/login", true);
  }
  const box = alertBox();
  const details = h("div", {});
  const fromLink = new URLSearchParams(location.search).get("user_code") || "";
  const code = h("input", {id: "user-code", name: "user_code", type: "text", autocomplete: "off", spellcheck: "false",
                           autocapitalize: "characters", "aria-describedby": "user-code-help", value: fromLink});
  const look = h("button", {type: "submit"}, "Continue");
  const form = h("form", {}, h("label", {for: "user-code"}, "The code your terminal shows"), code,
                 h("p", {id: "user-code-help", class: "muted"}, "Eight letters, like BCDF-GHJK."), look);
  const section = h("section", {}, form, box, details);

  // The decision replaces the form: what was decided, and nothing left to click again.
  const decide = (userCode, asked, decision, button) => busy(button, box, async () => {
    const result = await withStepUp(() => api.post("/v1/cli/logins/approve", {user_code: userCode, decision}));
    const approved = result.status === "approved";
    const outcome = h("p", {class: "success", role: "status", tabindex: "-1", id: "cli-login-result"}, approved
      ? `Approved. You can go back to your terminal. "${asked.client_name}" is now logged in.`
      : `Denied. "${asked.client_name}" will not be logged in.`);
    section.replaceChildren(outcome);
    outcome.focus();
  });
  const show = (userCode) => busy(look, box, async () => {
    const asked = await api.get(`/v1/cli/logins/${encodeURIComponent(userCode)}`);
    code.value = asked.user_code;
    if (asked.status !== "pending") {
      const decided = {denied: "denied", cancelled: "cancelled when the account's sessions were ended"};
      details.replaceChildren(h("p", {class: "notice", role: "status"}, `The login of "${asked.client_name}" was ` +
        `already ${decided[asked.status] || "approved"}: there is nothing left to decide.`));
      return;
    }
    const approve = h("button", {type: "button"}, "Approve");
    const deny = h("button", {type: "button", class: "secondary"}, "Deny");
    approve.addEventListener("click", () => decide(asked.user_code, asked, "approve", approve));
    deny.addEventListener("click", () => decide(asked.user_code, asked, "deny", deny));
    details.replaceChildren(h("div", {class: "card", id: "cli-login-request"},
      h("p", {}, `"${asked.client_name}" asks to log in to your account.`),
      h("p", {}, `The code: ${asked.user_code}.`),
      h("p", {class: "muted"}, `From ${asked.ip || "unknown"} (${asked.device}), ` +
                               `started ${when(asked.created_at)}. Only approve if you started it.`),
      approve, deny));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    details.replaceChildren();
    show(userCodeAsShown(code.value));
  });
  view("Approve a command-line login", section);
  // Opened from the terminal's link: the request shows at once.
  if (fromLink) await show(userCodeAsShown(fromLink));
}
