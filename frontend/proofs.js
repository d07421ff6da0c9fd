// Proving it's you with a second factor, the same on the login page and in the step-up
// dialog: a button per method (METHOD_UI); a click begins the method's challenge, then shows
// the form that collects the proof. Where it goes is the scope, the only difference between
// the two: {base: "/v1/login/{login_id}" or "/v1/account/step-up", submit(body),
// pushStatus(challengeId)} (views/login.js, stepup.js).
import {METHOD_UI, beginChallenge} from "./methods.js";
import {countdown} from "./countdown.js";
import {busy, ceremonyPrompt, h} from "./dom.js";
import * as webauthn from "./webauthn.js";

// How a proof is collected, by METHOD_UI[type].proofForm.kind: each shows its form in `area`
// and calls send(answer), which submits the method's toProof(method, answer, challenge).
const PROOF_FORMS = {
  // A code typed in: a wrong one can be corrected and sent again.
  code(area, {method, challenge, spec, box, send, focusField}) {
    const button = h("button", {type: "submit"}, "Verify");
    const input = h("input", {id: "code", name: "code", type: "text", required: true, autocomplete: "one-time-code",
                              inputmode: spec.numeric ? "numeric" : "text", spellcheck: "false"});
    const form = h("form", {class: "card"}, h("label", {for: "code"}, spec.label(method, challenge)), input, h("br"),
                   button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(button, box, () => send(input.value.trim()));
    });
    area.replaceChildren(form);
    if (focusField) input.focus();
  },

  // A WebAuthn assertion from a security key or this device's built-in authenticator.
  async authenticator(area, {challenge, send}) {
    const prompt = ceremonyPrompt(area);
    try {
      await send(await webauthn.get(challenge.public_key, prompt.signal));
    } finally {
      area.replaceChildren();
    }
  },

  // Waits for the phone's answer to a push request: shows the number to type in the app and
  // the time the request has left, polls the status, and sends the approved challenge.
  // Cancel withdraws the request on the server (scope.cancelPush), so the app drops it too.
  async push(area, {challenge, scope, send}) {
    let stopped = false;
    let wake = () => {};
    const stop = h("button", {type: "button", class: "secondary"}, "Cancel");
    stop.addEventListener("click", () => { stopped = true; wake(); });
    const status = h("p", {role: "status"}, h("span", {class: "spinner", "aria-hidden": "true"}),
                     "Waiting for your answer…");
    area.replaceChildren(h("div", {class: "card", id: "push-wait"},
      h("p", {}, "On your phone, open the notification and type this number in the app:"),
      h("p", {class: "big-number", "aria-label": `Number ${challenge.number}`, id: "push-number"}, String(challenge.number)),
      h("p", {class: "muted"}, "Type it only if you started this yourself, here."),
      challenge.notified === false
        ? h("p", {class: "notice"}, "The notification could not be sent: open the app to see the request.") : null,
      status,
      countdown(challenge.expires_at, (left) => `The request expires in ${left}.`, () => {}, {id: "push-countdown"}),
      stop));
    try {
      while (!stopped) {
        await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 1500); });
        if (stopped) break;
        const state = await scope.pushStatus(challenge.challenge_id);
        if (state.status === "approved") return send(challenge.challenge_id);
        if (state.status === "denied" || state.status === "expired") throw new Error(pushOutcome(state));
      }
      if (scope.cancelPush) {
        stop.disabled = true;
        await scope.cancelPush(challenge.challenge_id);
        throw new Error("Cancelled: the request was withdrawn from your phone. Choose a method to try again.");
      }
      throw new Error("Stopped waiting for your phone. Choose a method to try again.");
    } finally {
      area.replaceChildren();
    }
  },
};

// Why a push did not approve, in a plain sentence, from its status and reason.
const PUSH_OUTCOMES = {
  wrong_number: "The number typed in the app was not the one shown here, so the request was denied. Send a new " +
                "one and type the number this page shows.",
  fraud_report: "The request was reported on the phone as not made by the account's owner, so this login has " +
                "ended. The owner was emailed.",
  push_blocked: "Push requests to this phone are paused after a report from it. Use another method.",
  denied: "The request was denied on your phone.",
  cancelled: "The request was cancelled here. Choose a method to try again.",
};

function pushOutcome(state) {
  if (PUSH_OUTCOMES[state.reason]) return PUSH_OUTCOMES[state.reason];
  return state.status === "denied" ? PUSH_OUTCOMES.denied
    : "The request expired without an answer. Send a new one, or use another method.";
}

// The proof choices for a login attempt or a step-up: a button per method of `methods`
// (one per type for oneChoice types), in METHOD_UI's order, and the area their forms use.
// With `autoStart`, a single method (recovery codes aside: they are the fallback) starts at
// once and the buttons are for switching; a WebAuthn ceremony still waits for its button (some
// browsers refuse one without a click). Started so, focus stays on the page's heading (where a
// screen reader starts); a click moves it to the code field. scope.ended(error) may take
// an error over (the login attempt expired) and answer true.
export function proofChoices(methods, box, scope, {autoStart = false} = {}) {
  const area = h("div", {});
  const choices = h("div", {role: "group", "aria-label": "Verification methods"});
  const primary = [];
  for (const [type, ui] of Object.entries(METHOD_UI)) {
    const ofType = methods.filter((m) => m.type === type);
    for (const method of ui.oneChoice ? ofType.slice(0, 1) : ofType) {
      const button = h("button", {type: "button", class: "secondary"}, ui.choice(method));
      const start = ({focusField = true} = {}) => busy(button, box, async () => {
        try {
          const challenge = await beginChallenge(scope, method);
          const send = (answer) => scope.submit(ui.toProof(method, answer, challenge));
          await PROOF_FORMS[ui.proofForm.kind](area, {method, challenge, spec: ui.proofForm, box, scope, send,
                                                       focusField});
        } catch (error) {
          if (scope.ended && scope.ended(error)) return;
          throw error;
        }
      });
      button.addEventListener("click", () => start());
      choices.append(button);
      if (type !== "recovery_codes") primary.push({ui, button, start});
    }
  }
  if (autoStart && primary.length === 1) {
    const [only] = primary;
    // After the caller has put the choices on the page (view() focuses its heading).
    if (only.ui.proofForm.kind !== "authenticator") queueMicrotask(() => only.start({focusField: false}));
  }
  return [choices, area];
}
