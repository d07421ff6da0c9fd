// Sensitive changes: when the API asks for a fresh second factor (step_up_required), a dialog
// asks for one with the same choices as the login page (proofs.js), and the change is tried
// once more. A session won through an identity provider confirms there instead: the browser
// goes to the IdP and comes back to this page, where the change is asked for again.
import * as api from "./api.js";
import {Cancelled, alertBox, busy, h} from "./dom.js";
import {proofChoices} from "./proofs.js";

const stepUpDialog = document.getElementById("step-up");
const BASE = "/v1/account/step-up";
const CANCELLED = "Cancelled: that change needs you to confirm it's you.";

// Runs `action`; when the API asks for a fresh second factor, asks for one in a dialog and
// runs `action` once more.
export async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.code !== "step_up_required") throw error;
    await stepUp();
    return action();
  }
}

async function stepUp() {
  const {sessions} = await api.get("/v1/account/sessions");
  if (sessions.some((s) => s.current && s.auth === "sso")) return stepUpAtIdentityProvider();
  const {methods} = await api.get("/v1/account/methods");
  return new Promise((resolve, reject) => {
    const box = alertBox();
    const done = (ok, error) => {
      stepUpDialog.onclose = null;
      stepUpDialog.close();
      ok ? resolve() : reject(error);
    };
    const submit = async (body) => {
      try {
        await api.post(BASE, body);
      } catch (error) {
        if (error.status === 401 && error.code === "unauthenticated") done(false, error);
        throw error;
      }
      done(true);
    };
    const scope = {base: BASE, submit, pushStatus: (challengeId) => api.get(`${BASE}/push/${challengeId}`),
                   cancelPush: (challengeId) => api.del(`${BASE}/push/${challengeId}`)};
    const cancel = h("button", {type: "button", class: "secondary"}, "Cancel");
    cancel.addEventListener("click", () => done(false, new Cancelled(CANCELLED)));
    stepUpDialog.replaceChildren(
      h("h2", {id: "step-up-title"}, "Confirm it's you"),
      h("p", {}, "This change needs a fresh second factor."),
      ...proofChoices(methods, box, scope), box, cancel);
    stepUpDialog.onclose = () => done(false, new Cancelled(CANCELLED));
    stepUpDialog.showModal();
  });
}

function stepUpAtIdentityProvider() {
  return new Promise((resolve, reject) => {
    const box = alertBox();
    const cancelled = () => reject(new Cancelled(CANCELLED));
    const go = h("button", {type: "button"}, "Continue to your identity provider");
    go.addEventListener("click", () => busy(go, box, async () => {
      const {redirect_url: url} = await api.post(`${BASE}/sso`, {return_to: location.pathname + location.search});
      stepUpDialog.onclose = null;
      location.assign(url);
    }));
    const cancel = h("button", {type: "button", class: "secondary"}, "Cancel");
    cancel.addEventListener("click", () => stepUpDialog.close());
    stepUpDialog.replaceChildren(
      h("h2", {id: "step-up-title"}, "Confirm it's you"),
      h("p", {}, "You logged in through your organisation's identity provider. Confirm it's you there, "
        + "then make this change again."), box, go, cancel);
    stepUpDialog.onclose = cancelled;
    stepUpDialog.showModal();
  });
}
