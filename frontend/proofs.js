// Proving it's you with a second factor, the same on the login page and in the step-up
// dialog: a button per method, and the forms that collect the proof.
import {busy, ceremonyPrompt, h} from "./dom.js";
import * as webauthn from "./webauthn.js";

// Waits for the phone's answer to a push request: shows the number to pick, polls the
// status, and sends the approved challenge. A Cancel button stops waiting.
async function awaitPush(area, started, ways) {
  let stopped = false;
  const stop = h("button", {type: "button", class: "secondary", onclick: () => { stopped = true; }}, "Cancel");
  const status = h("p", {role: "status"}, "Waiting for your answer…");
  area.replaceChildren(h("div", {class: "card", id: "push-wait"},
    h("p", {}, "On your phone, open the notification and pick this number:"),
    h("p", {class: "big-number", "aria-label": `Number ${started.number}`, id: "push-number"}, String(started.number)),
    started.notified ? null : h("p", {class: "notice"}, "The notification could not be sent: open the app to see the request."),
    status, stop));
  try {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (stopped) break;
      const state = await ways.pushStatus(started.challenge_id);
      if (state.status === "approved") return ways.submit({challenge_id: started.challenge_id});
      if (state.status === "denied") throw new Error("The request was denied on your phone, or the wrong number was picked.");
      if (state.status === "expired") throw new Error("The request expired without an answer. Send a new one, or use another method.");
    }
    throw new Error("Stopped waiting for your phone. Choose a method to try again.");
  } finally {
    area.replaceChildren();
  }
}

// The proof choices for a login attempt (or a step-up): a button per code, push or SMS
// method and one per kind of WebAuthn authenticator. `ways` sends things: submit(body),
// webauthnOptions(), sendPush(method), pushStatus(challengeId), sendSms(method).
export function proofChoices(methods, box, ways) {
  const {submit} = ways;
  const area = h("div", {});
  const choices = h("div", {role: "group", "aria-label": "Verification methods"});
  const codeForm = (method, sentTo = null) => {
    const numeric = method.type === "totp" || method.type === "sms";
    const button = h("button", {type: "submit"}, "Verify");
    const input = h("input", {id: "code", name: "code", type: "text", required: true, autocomplete: "one-time-code",
                              inputmode: numeric ? "numeric" : "text", spellcheck: "false"});
    const text = method.type === "totp" ? `6-digit code from ${method.label}`
      : method.type === "sms" ? `6-digit code texted to ${sentTo}` : "One of your recovery codes";
    const form = h("form", {class: "card"}, h("label", {for: "code"}, text), input, h("br"), button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(button, box, () => submit({method_id: method.id, code: input.value.trim()}));
    });
    area.replaceChildren(form);
    input.focus();
  };
  const byType = (type) => methods.filter((m) => m.type === type);
  for (const method of byType("push")) {
    const button = h("button", {type: "button", class: "secondary"}, `Approve on your phone: ${method.label}`);
    button.addEventListener("click", () => busy(button, box, async () => awaitPush(area, await ways.sendPush(method), ways)));
    choices.append(button);
  }
  for (const method of byType("totp")) {
    choices.append(h("button", {type: "button", class: "secondary", onclick: () => codeForm(method)},
                     `Authenticator app: ${method.label}`));
  }
  const webauthnTypes = [["security_key", "Use a security key"],
                         ["built_in", "Use this device's built-in authenticator (Touch ID, Windows Hello)"]];
  for (const [type, text] of webauthnTypes) {
    if (!byType(type).length) continue;
    const button = h("button", {type: "button", class: "secondary"}, text);
    button.addEventListener("click", () => busy(button, box, async () => {
      const prompt = ceremonyPrompt(area);
      try {
        const options = await ways.webauthnOptions();
        await submit({credential: await webauthn.get(options.public_key, prompt.signal)});
      } finally {
        area.replaceChildren();
      }
    }));
    choices.append(button);
  }
  for (const method of byType("recovery_codes")) {
    choices.append(h("button", {type: "button", class: "secondary", onclick: () => codeForm(method)},
                     "Use a recovery code"));
  }
  for (const method of byType("sms")) {
    const button = h("button", {type: "button", class: "secondary"}, `Text a code to ${method.label} (deprecated)`);
    button.addEventListener("click", () => busy(button, box, async () => {
      const sent = await ways.sendSms(method);
      codeForm(method, sent.sent_to);
    }));
    choices.append(button);
  }
  return [choices, area];
}
