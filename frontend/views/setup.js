// The enrolment wizard: an account without a second factor adds its first one here. The
// method picker is also the account page's "Add a method".
import {h, setFlash, view} from "../dom.js";
import {METHOD_UI} from "../methods.js";
import {navigate} from "../router.js";
import {loadAccount, session} from "../session.js";
import {withStepUp} from "../stepup.js";

// A button per type of method that can be added (METHOD_UI's enroll, of the types the API says
// this account may add on this stage), and the area where the chosen one's panel opens;
// onDone(result) once a method is added.
export function methodPicker(onDone) {
  const area = h("div", {});
  const choose = (ui) => {
    area.replaceChildren(ui.enroll.panel({onDone, withStepUp}));
    area.querySelector("input, button")?.focus();
  };
  const addable = session.account?.addable_methods || [];
  const kinds = Object.entries(METHOD_UI).filter(([type, ui]) => ui.enroll && addable.includes(type))
    .map(([, ui]) => ui);
  return [
    h("div", {role: "group", "aria-label": "Kinds of verification method"},
      kinds.map((ui) => h("button", {type: "button", class: "secondary", onclick: () => choose(ui)}, ui.enroll.button))),
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
