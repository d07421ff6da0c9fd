// The enrolment wizard: an account without a second factor adds its first one here. The
// method picker is also the account page's "Add a method".
import {h, setFlash, view} from "../dom.js";
import {pushEnrolment, totpEnrolment, webauthnEnrolment} from "../enrolment.js";
import {navigate} from "../router.js";
import {loadAccount, session} from "../session.js";

export function methodPicker(onDone) {
  const area = h("div", {});
  const choose = (builder) => { area.replaceChildren(builder()); area.querySelector("input, button")?.focus(); };
  return [
    h("div", {role: "group", "aria-label": "Kinds of verification method"},
      h("button", {type: "button", class: "secondary", onclick: () => choose(() => pushEnrolment(onDone))},
        "Mobile app (push)"),
      h("button", {type: "button", class: "secondary", onclick: () => choose(() => totpEnrolment(onDone))},
        "Authenticator app"),
      h("button", {type: "button", class: "secondary", onclick: () => choose(() => webauthnEnrolment("security_key", onDone))},
        "Security key"),
      h("button", {type: "button", class: "secondary", onclick: () => choose(() => webauthnEnrolment("built_in", onDone))},
        "Built-in authenticator")),
    area,
  ];
}

export async function setup() {
  if (!(await loadAccount())) return navigate("/login", true);
  if (!session.account.enrollment_required) return navigate("/account", true);
  const done = async (result) => {
    await loadAccount();
    setFlash("success", `${result.method.label} is set up: your account is protected. ` +
                        "Now add a backup method and save recovery codes, in case you lose it.");
    navigate("/account", true);
  };
  view("Set up two-factor verification",
    h("p", {}, "Your account needs a second way to prove it's you, besides the password, before you can use it. " +
               "Choose one; you can add more afterwards."),
    h("section", {}, ...methodPicker(done)));
}
