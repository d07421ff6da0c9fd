// The enrolment panels that METHOD_UI's entries open (on the setup page and under the account
// page's "Add a method"). A panel gets {onDone, withStepUp}: onDone(result) with the API's
// answer once the method is added, and withStepUp (stepup.js), passed in rather than imported
// because the step-up dialog itself iterates over METHOD_UI.
import * as api from "./api.js";
import {alertBox, busy, ceremonyPrompt, h} from "./dom.js";
import * as webauthn from "./webauthn.js";

export function totpPanel({onDone, withStepUp}) {
  const box = alertBox();
  const panel = h("div", {class: "card"});
  const labelInput = h("input", {id: "totp-label", name: "label", type: "text", value: "Authenticator app"});
  const start = h("button", {type: "button"}, "Show QR code");
  start.addEventListener("click", () => busy(start, box, async () => {
    const started = await withStepUp(() => api.post("/v1/account/methods/totp", {label: labelInput.value.trim() || null}));
    const qr = h("div", {class: "qr", role: "img", "aria-label": "QR code with the authenticator app's secret"});
    qr.innerHTML = started.qr_svg;   // SVG made by the service (segno), not user input
    const code = h("input", {id: "totp-code", name: "code", type: "text", inputmode: "numeric",
                             autocomplete: "one-time-code", required: true});
    const confirm = h("button", {type: "submit"}, "Confirm");
    const form = h("form", {}, h("label", {for: "totp-code"}, "The 6-digit code the app shows"), code, h("br"), confirm);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(confirm, box, async () => {
        const result = await api.post(`/v1/account/methods/${started.method_id}/confirm`, {code: code.value.trim()});
        onDone(result);
      });
    });
    panel.replaceChildren(
      h("p", {}, "Scan this QR code with your authenticator app (Google Authenticator, 1Password, Authy…)."),
      qr, h("p", {}, "Or enter this key by hand: ", h("span", {class: "secret"}, started.secret)),
      form, box);
    code.focus();
  }));
  panel.append(h("label", {for: "totp-label"}, "Name"), labelInput, h("br"), start, box);
  return panel;
}

// A security key or a built-in authenticator, registered with navigator.credentials.create().
// `kind`: {type, label (the default name), intro, register (the button), platform (warn
// when the browser reports no built-in authenticator)}.
export function webauthnPanel({onDone, withStepUp}, kind) {
  const {type} = kind;
  const box = alertBox();
  const labelInput = h("input", {id: `${type}-label`, name: "label", type: "text", value: kind.label});
  const start = h("button", {type: "button"}, kind.register);
  const waiting = h("div", {});
  const panel = h("div", {class: "card"}, h("p", {}, kind.intro), h("label", {for: `${type}-label`}, "Name"),
                  labelInput, h("br"), start, waiting, box);
  if (kind.platform) {
    webauthn.platformAuthenticatorAvailable().then((available) => {
      if (!available) panel.prepend(h("p", {class: "notice"}, "This browser reports no built-in authenticator; " +
                                                              "you can still try, or use a security key."));
    });
  }
  start.addEventListener("click", () => busy(start, box, async () => {
    if (!webauthn.supported()) throw new Error("This browser does not support security keys or built-in authenticators.");
    const label = labelInput.value.trim() || null;
    const options = await withStepUp(() => api.post("/v1/account/methods/webauthn/options", {type, label}));
    const prompt = ceremonyPrompt(waiting);
    let credential;
    try {
      credential = await webauthn.create(options.public_key, prompt.signal);
    } finally {
      waiting.replaceChildren();
    }
    onDone(await api.post("/v1/account/methods/webauthn", {credential, label}));
  }));
  return panel;
}

export function pushPanel({onDone, withStepUp}) {
  const box = alertBox();
  const labelInput = h("input", {id: "push-label", name: "label", type: "text", value: "My phone"});
  const start = h("button", {type: "button"}, "Show pairing code");
  const panel = h("div", {class: "card"},
    h("p", {}, "Pair the MFA authenticator app on your phone: it will ask you to approve each login with a tap."),
    h("label", {for: "push-label"}, "Name"), labelInput, h("br"), start, box);
  start.addEventListener("click", () => busy(start, box, async () => {
    const started = await withStepUp(() => api.post("/v1/account/methods/push/pairings", {label: labelInput.value.trim() || null}));
    const qr = h("div", {class: "qr", role: "img", "aria-label": "QR code for pairing the app"});
    qr.innerHTML = started.qr_svg;   // SVG made by the service (segno), not user input
    const phrase = h("input", {id: "pairing-phrase", name: "phrase", type: "text", autocomplete: "off",
                               spellcheck: "false", required: true});
    const confirm = h("button", {type: "submit"}, "Finish pairing");
    const form = h("form", {}, h("label", {for: "pairing-phrase"}, "The three words the app shows"), phrase, h("br"),
                   confirm);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(confirm, box, async () => onDone(await api.post(
        `/v1/account/methods/push/pairings/${started.pairing_id}/confirm`, {phrase: phrase.value})));
    });
    panel.replaceChildren(
      h("p", {}, "In the app, scan this QR code, or type the pairing code. It works once, for 10 minutes."),
      qr, h("p", {}, "Pairing code: ", h("span", {class: "secret", id: "pairing-code"}, started.pairing_code)),
      form, box);
    phrase.focus();
  }));
  return panel;
}

// A method whose enrolment sends a code (by email, say): POST /v1/account/methods {type}, then
// the code sent to `sent_to_hint` confirms it. `kind`: {type, label (the default name), intro,
// start (the button)}.
export function sentCodePanel({onDone, withStepUp}, kind) {
  const {type} = kind;
  const box = alertBox();
  const labelInput = h("input", {id: `${type}-label`, name: "label", type: "text", value: kind.label});
  const start = h("button", {type: "button"}, kind.start);
  const panel = h("div", {class: "card"}, h("p", {}, kind.intro), h("label", {for: `${type}-label`}, "Name"),
                  labelInput, h("br"), start, box);
  start.addEventListener("click", () => busy(start, box, async () => {
    const started = await withStepUp(() => api.post("/v1/account/methods", {type, label: labelInput.value.trim() || null}));
    const code = h("input", {id: `${type}-code`, name: "code", type: "text", inputmode: "numeric",
                             autocomplete: "one-time-code", required: true});
    const confirm = h("button", {type: "submit"}, "Confirm");
    const form = h("form", {}, h("label", {for: `${type}-code`}, `The 6-digit code sent to ${started.sent_to_hint}`),
                   code, h("br"), confirm);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(confirm, box, async () => onDone(await api.post(`/v1/account/methods/${started.method_id}/confirm`,
                                                            {code: code.value.trim()})));
    });
    panel.replaceChildren(form, box);
    code.focus();
  }));
  return panel;
}
