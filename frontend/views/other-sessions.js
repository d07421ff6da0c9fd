// "End N other sessions", offered right after a change of verification methods (added,
// removed, new recovery codes) or while a method is flagged as possibly copied: the API
// answers `other_sessions`, how many other browser and command-line sessions exist.
import * as api from "../api.js";
import {alertBox, busy, h, statusBox} from "../dom.js";
import {withStepUp} from "../stepup.js";

const plural = (n) => `${n} other session${n === 1 ? "" : "s"}`;

// The offer (null when there is nothing to end); `ended()` runs once they are ended.
export function endOtherSessionsOffer(count, ended = async () => {}) {
  if (!count) return null;
  const box = alertBox();
  const done = statusBox();
  const button = h("button", {type: "button", class: "secondary", id: "end-other-sessions"}, `End ${plural(count)}`);
  const offer = h("div", {class: "notice", id: "other-sessions-offer"},
    h("p", {}, `${plural(count)} (in other browsers or on the command line) ${count === 1 ? "is" : "are"} still ` +
               "logged in. If you did not start them, end them."), button, box, done);
  button.addEventListener("click", () => busy(button, box, async () => {
    const {revoked} = await withStepUp(() => api.del("/v1/account/sessions?scope=others"));
    button.remove();
    done.textContent = `${plural(revoked)} ended.`;
    await ended();
  }));
  return offer;
}
