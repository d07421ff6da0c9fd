// The reference web frontend: every screen a person needs, on the same origin as the API.
// Plain DOM, no framework: views are functions that fill <main>; links with data-link are
// routed here (history API), so the page works as static files behind any web server.
import * as api from "./api.js";
import * as webauthn from "./webauthn.js";

const main = document.getElementById("app");
const nav = document.getElementById("nav");
const stepUpDialog = document.getElementById("step-up");
let account = null;          // GET /v1/account, or null when logged out
let flash = null;            // a message shown on the next view
let devMailbox = false;      // the local stage's /_dev/mailbox answers

const TYPE_NAMES = {
  totp: "Authenticator app",
  security_key: "Security key",
  built_in: "Built-in authenticator",
  recovery_codes: "Recovery codes",
  push: "Mobile app (push)",
  sms: "SMS (deprecated)",
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return el;
}

const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "never");
const link = (href, text, attrs = {}) => h("a", {href, "data-link": true, ...attrs}, text);
const alertBox = () => h("p", {class: "error", role: "alert"});
const statusBox = () => h("p", {class: "success", role: "status"});

function explain(error) {
  return webauthn.describeBrowserError(error) || api.describe(error);
}

function show(box, error) {
  box.textContent = explain(error);
}

// Runs `action` with the button disabled, showing any error in `box`.
async function busy(button, box, action) {
  if (box) box.textContent = "";
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (box) show(box, error);
    if (error instanceof api.ApiError && error.status === 401 && error.code === "unauthenticated") {
      account = null;
      flash = {kind: "error", text: explain(error)};
      navigate("/login");
    }
    return undefined;
  } finally {
    button.disabled = false;
  }
}

function view(title, ...children) {
  const heading = h("h1", {tabindex: "-1"}, title);
  main.replaceChildren(heading);
  if (flash) {
    main.append(h("p", {class: flash.kind, role: flash.kind === "error" ? "alert" : "status"}, flash.text));
    flash = null;
  }
  main.append(...children);
  heading.focus();
  document.title = `${title} · MFA Service`;
}

function field(labelText, attrs) {
  const id = attrs.id || `f-${attrs.name}`;
  return [h("label", {for: id}, labelText), h("input", {id, ...attrs})];
}

// ---------------------------------------------------------------- routing

const routes = {
  "/": home, "/signup": signup, "/login": login, "/verify-email": verifyEmail, "/setup": setup,
  "/account": accountPage, "/cli-login": cliLogin, "/dev/mailbox": mailboxPage,
};

export function navigate(path, replace = false) {
  history[replace ? "replaceState" : "pushState"]({}, "", path);
  render();
}

async function render() {
  renderNav();
  const route = routes[location.pathname] || notFound;
  try {
    await route();
  } catch (error) {
    view("Something went wrong", h("p", {class: "error", role: "alert"}, explain(error)),
         h("p", {}, link("/", "Start again")));
  }
  renderNav();
}

function renderNav() {
  const items = [];
  if (account && !account.enrollment_required) items.push(link("/account", "Account"));
  if (account) {
    const out = h("button", {class: "secondary", type: "button"}, "Log out");
    out.addEventListener("click", () => busy(out, null, async () => {
      await api.post("/v1/logout");
      account = null;
      flash = {kind: "success", text: "You are logged out."};
      navigate("/login");
    }));
    items.push(out);
  } else {
    items.push(link("/login", "Log in"), link("/signup", "Sign up"));
  }
  if (devMailbox) items.push(link("/dev/mailbox", "Dev mailbox"));
  nav.replaceChildren(...items);
}

async function loadAccount() {
  try {
    account = await api.get("/v1/account");
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status !== 401) throw error;
    account = null;
  }
  return account;
}

function notFound() {
  view("Page not found", h("p", {}, "There is nothing at this address. ", link("/", "Go to the start page"), "."));
}

async function home() {
  await loadAccount();
  navigate(!account ? "/login" : account.enrollment_required ? "/setup" : "/account", true);
}

function afterLogin() {
  const target = sessionStorage.getItem("returnTo");
  sessionStorage.removeItem("returnTo");
  navigate(target || "/", true);
}

// ---------------------------------------------------------------- sign up, verify, log in

function signup() {
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Create account");
  const form = h("form", {novalidate: true},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true}),
    ...field("Password", {name: "password", type: "password", autocomplete: "new-password", required: true,
                          "aria-describedby": "password-help"}),
    h("p", {id: "password-help", class: "muted"},
      "At least 12 characters; a long phrase that is not used elsewhere is best."),
    box, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      await api.post("/v1/accounts", {email: form.email.value, password: form.password.value});
      view("Check your email",
        h("p", {role: "status"}, `We sent a link to ${form.email.value}. Open it to verify your address; ` +
          "it works once and expires in 24 hours."),
        devMailbox ? h("p", {}, "Local stage: the email is in the ", link("/dev/mailbox", "dev mailbox"), ".") : null,
        h("p", {}, link("/login", "Log in"), " once your address is verified."));
    });
  });
  view("Create your account", h("section", {}, form),
       h("p", {}, "Already have an account? ", link("/login", "Log in"), "."));
}

async function verifyEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  view("Verify your email", h("p", {role: "status"}, "Verifying…"));
  try {
    await api.post("/v1/accounts/verify-email", {token});
    // The token leaves the address bar (and the history) once used.
    history.replaceState({}, "", "/verify-email");
    flash = {kind: "success", text: "Your email address is verified. You can log in now."};
    navigate("/login", true);
  } catch (error) {
    view("Verify your email", h("p", {class: "error", role: "alert"}, explain(error)),
         h("p", {}, link("/signup", "Sign up again"), " or ", link("/login", "log in"), "."));
  }
}

function login() {
  const box = alertBox();
  const button = h("button", {type: "submit"}, "Continue");
  const form = h("form", {novalidate: true},
    ...field("Email address", {name: "email", type: "email", autocomplete: "username", required: true}),
    ...field("Password", {name: "password", type: "password", autocomplete: "current-password", required: true}),
    box, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, box, async () => {
      const started = await api.post("/v1/login", {email: form.email.value, password: form.password.value});
      if (started.enrollment_required) {
        await loadAccount();
        navigate("/setup");
      } else {
        secondFactor(started);
      }
    });
  });
  view("Log in", h("section", {}, form), h("p", {}, "New here? ", link("/signup", "Create an account"), "."));
}

// While the browser waits for an authenticator (one that is not registered never answers),
// a Cancel button ends the wait.
function ceremonyPrompt(area) {
  const controller = new AbortController();
  const cancel = h("button", {type: "button", class: "secondary", onclick: () => controller.abort()}, "Cancel");
  area.replaceChildren(h("p", {class: "notice", role: "status"}, "Follow your browser's prompt…"), cancel);
  return controller;
}

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
function proofChoices(methods, box, ways) {
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

function secondFactor(started) {
  const box = alertBox();
  const submit = async (body) => {
    try {
      await api.post(`/v1/login/${started.login_id}/verify`, body);
    } catch (error) {
      if (error.status === 410) {
        flash = {kind: "error", text: explain(error)};
        navigate("/login", true);
        return;
      }
      throw error;
    }
    await loadAccount();
    afterLogin();
  };
  const base = `/v1/login/${started.login_id}`;
  const ways = {
    submit,
    webauthnOptions: () => api.post(`${base}/webauthn/options`),
    sendPush: (method) => api.post(`${base}/push`, {method_id: method.id}),
    pushStatus: () => api.get(base),
    sendSms: (method) => api.post(`${base}/sms`, {method_id: method.id}),
  };
  view("Verify it's you",
    h("p", {}, "Choose how to confirm this login."),
    h("section", {}, ...proofChoices(started.methods, box, ways), box),
    h("p", {class: "muted"}, `This login attempt expires at ${when(started.expires_at)}.`));
}

// ---------------------------------------------------------------- step-up

// Runs `action`; when the API asks for a fresh second factor, asks for one in a dialog and
// runs `action` once more.
async function withStepUp(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.code !== "step_up_required") throw error;
    await stepUp();
    return action();
  }
}

async function stepUp() {
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
        await api.post("/v1/account/step-up", body);
      } catch (error) {
        if (error.status === 401 && error.code === "unauthenticated") done(false, error);
        throw error;
      }
      done(true);
    };
    const ways = {
      submit,
      webauthnOptions: () => api.post("/v1/account/step-up/webauthn/options"),
      sendPush: (method) => api.post("/v1/account/step-up/push", {method_id: method.id}),
      pushStatus: (challengeId) => api.get(`/v1/account/step-up/push/${challengeId}`),
      sendSms: (method) => api.post("/v1/account/step-up/sms", {method_id: method.id}),
    };
    const cancel = h("button", {type: "button", class: "secondary"}, "Cancel");
    cancel.addEventListener("click", () => done(false, new Error("Cancelled: that change needs you to confirm it's you.")));
    stepUpDialog.replaceChildren(
      h("h2", {id: "step-up-title"}, "Confirm it's you"),
      h("p", {}, "This change needs a fresh second factor."),
      ...proofChoices(methods, box, ways), box, cancel);
    stepUpDialog.onclose = () => done(false, new Error("Cancelled: that change needs you to confirm it's you."));
    stepUpDialog.showModal();
  });
}

// ---------------------------------------------------------------- enrolment

function totpEnrolment(onDone) {
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

function webauthnEnrolment(type, onDone) {
  const box = alertBox();
  const defaults = {security_key: "Security key", built_in: "This device"};
  const labelInput = h("input", {id: `${type}-label`, name: "label", type: "text", value: defaults[type]});
  const start = h("button", {type: "button"}, type === "security_key" ? "Register security key"
                                                                         : "Register built-in authenticator");
  const intro = type === "security_key"
    ? "Insert your security key (YubiKey, Titan Key…) and touch it when the browser asks."
    : "Use this device's fingerprint, face or PIN unlock (Touch ID, Windows Hello) when the browser asks.";
  const waiting = h("div", {});
  const panel = h("div", {class: "card"}, h("p", {}, intro), h("label", {for: `${type}-label`}, "Name"),
                  labelInput, h("br"), start, waiting, box);
  if (type === "built_in") {
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

function pushEnrolment(onDone) {
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

function methodPicker(onDone) {
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

async function setup() {
  if (!(await loadAccount())) return navigate("/login", true);
  if (!account.enrollment_required) return navigate("/account", true);
  const done = async (result) => {
    await loadAccount();
    flash = {kind: "success", text: `${result.method.label} is set up: your account is protected. ` +
                                    "Now add a backup method and save recovery codes, in case you lose it."};
    navigate("/account", true);
  };
  view("Set up two-factor verification",
    h("p", {}, "Your account needs a second way to prove it's you, besides the password, before you can use it. " +
               "Choose one; you can add more afterwards."),
    h("section", {}, ...methodPicker(done)));
}

// ---------------------------------------------------------------- account page

async function accountPage() {
  if (!(await loadAccount())) return navigate("/login", true);
  if (account.enrollment_required) return navigate("/setup", true);
  const section = (id) => h("section", {"aria-labelledby": id, "aria-busy": "true"}, h("p", {class: "muted"}, "Loading…"));
  const methodsSection = section("methods-title");
  const codesSection = section("codes-title");
  const sessionsSection = section("sessions-title");
  const eventsSection = section("events-title");
  view("Your account", h("p", {}, `Logged in as ${account.email}.`),
       methodsSection, codesSection, sessionsSection, eventsSection);
  const refresh = async () => {
    const listed = await api.get("/v1/account/methods");
    renderMethods(methodsSection, listed, refresh);
    renderRecoveryCodes(codesSection, listed, refresh);
  };
  await Promise.all([refresh(), renderSessions(sessionsSection), renderEvents(eventsSection)]);
  for (const done of [methodsSection, codesSection, sessionsSection, eventsSection]) done.removeAttribute("aria-busy");
}

function renderMethods(section, listed, refresh) {
  const box = alertBox();
  const ok = statusBox();
  const rows = listed.methods.filter((m) => m.type !== "recovery_codes").map((method) => {
    const actions = h("td", {});
    const rename = h("button", {type: "button", class: "secondary", "aria-label": `Rename ${method.label}`}, "Rename");
    const remove = h("button", {type: "button", class: "secondary", "aria-label": `Remove ${method.label}`}, "Remove");
    rename.addEventListener("click", () => {
      const input = h("input", {id: `rename-${method.id}`, type: "text", value: method.label, required: true});
      const save = h("button", {type: "submit"}, "Save");
      const form = h("form", {}, h("label", {for: `rename-${method.id}`}, "New name"), input, save,
                     h("button", {type: "button", class: "secondary", onclick: () => refresh()}, "Cancel"));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        busy(save, box, async () => {
          await withStepUp(() => api.patch(`/v1/account/methods/${method.id}`, {label: input.value.trim()}));
          await refresh();
        });
      });
      actions.replaceChildren(form);
      input.focus();
    });
    remove.addEventListener("click", () => {
      const yes = h("button", {type: "button", class: "danger"}, `Yes, remove ${method.label}`);
      const no = h("button", {type: "button", class: "secondary", onclick: () => refresh()}, "Keep it");
      yes.addEventListener("click", () => busy(yes, box, async () => {
        await withStepUp(() => api.del(`/v1/account/methods/${method.id}`, {confirm: true}));
        await refresh();
      }));
      actions.replaceChildren(h("p", {role: "alert"}, "Remove this method for good?"), yes, no);
      no.focus();
    });
    actions.append(rename, remove);
    const flags = method.suspicious ? h("span", {class: "badge bad"}, "blocked: may be copied")
      : method.deprecated ? h("span", {class: "badge bad"}, `deprecated: until ${method.usable_until}`) : null;
    const detail = method.device_name || method.phone || null;
    return h("tr", {"data-method-id": method.id},
      h("td", {}, h("strong", {}, method.label), " ", flags, detail ? h("div", {class: "muted"}, detail) : null),
      h("td", {}, TYPE_NAMES[method.type] || method.type),
      h("td", {}, when(method.created_at)), h("td", {}, when(method.last_used_at)), actions);
  });
  const added = async (result) => {
    await refresh();
    section.querySelector("[role=status]").textContent = `${result.method.label} was added.`;
  };
  section.replaceChildren(
    h("h2", {id: "methods-title"}, "Verification methods"),
    listed.backup_recommended ? h("p", {class: "notice", id: "backup-nudge"},
      "Add a backup method: with a second authenticator or security key and recovery codes, losing one device " +
      "does not lock you out.") : null,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Kind"), h("th", {}, "Added"),
                                         h("th", {}, "Last used"), h("th", {}, "Actions"))),
      h("tbody", {}, rows)),
    box, ok,
    h("h3", {}, "Add a method"), ...methodPicker(added));
}

function renderRecoveryCodes(section, listed, refresh) {
  const box = alertBox();
  const current = listed.methods.find((m) => m.type === "recovery_codes");
  const generate = h("button", {type: "button"}, current ? "Generate new recovery codes" : "Generate recovery codes");
  const shown = h("div", {});
  generate.addEventListener("click", () => busy(generate, box, async () => {
    const made = await withStepUp(() => api.post("/v1/account/recovery-codes"));
    const text = made.codes.join("\n");
    const copied = statusBox();
    const copy = h("button", {type: "button", class: "secondary"}, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "Copying is not allowed here: select the codes and copy them.";
      }
    });
    const download = h("a", {class: "button secondary", download: "recovery-codes.txt",
                             href: URL.createObjectURL(new Blob([text + "\n"], {type: "text/plain"}))}, "Download");
    const saved = h("button", {type: "button", onclick: () => refresh()}, "I have saved them");
    shown.replaceChildren(h("div", {class: "card", id: "new-codes"},
      h("p", {class: "notice", role: "status"}, "Save these codes now: they are shown only once. Each works once. " +
                                                "Any older codes no longer work."),
      h("ul", {class: "codes", "aria-label": "Recovery codes"}, made.codes.map((c) => h("li", {}, c))),
      copy, download, saved, copied));
    shown.querySelector("li")?.setAttribute("tabindex", "-1");
  }));
  section.replaceChildren(
    h("h2", {id: "codes-title"}, "Recovery codes"),
    h("p", {}, current ? `${current.remaining} of ${current.total} codes left.`
                       : "No recovery codes yet. They let you log in if you lose your devices."),
    generate, box, shown);
}

async function renderSessions(section) {
  const box = alertBox();
  const {sessions} = await api.get("/v1/account/sessions");
  const reload = () => renderSessions(section);
  const rows = sessions.map((s) => {
    const end = s.current ? h("span", {class: "badge"}, "this browser")
      : h("button", {type: "button", class: "secondary", "aria-label": `End session from ${s.user_agent || s.ip}`}, "End");
    if (!s.current) {
      end.addEventListener("click", () => busy(end, box, async () => {
        await withStepUp(() => api.del(`/v1/account/sessions/${s.id}`));
        await reload();
      }));
    }
    return h("tr", {}, h("td", {}, s.kind === "cli" ? "Command line" : "Browser"), h("td", {}, s.user_agent || "unknown"),
             h("td", {}, s.ip || "unknown"), h("td", {}, when(s.created_at)), h("td", {}, when(s.last_seen_at)), h("td", {}, end));
  });
  const others = h("button", {type: "button", class: "secondary"}, "Log out all other sessions");
  others.addEventListener("click", () => busy(others, box, async () => {
    const {revoked} = await withStepUp(() => api.del("/v1/account/sessions?scope=others"));
    await reload();
    section.querySelector("[role=status]").textContent = `${revoked} other session(s) ended.`;
  }));
  section.replaceChildren(h("h2", {id: "sessions-title"}, "Sessions"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Kind", "Device", "IP address", "Started", "Last active", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)),
    others, box, statusBox());
}

async function renderEvents(section, cursor = null, list = null) {
  const box = alertBox();
  const page = await api.get(`/v1/account/events?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  if (!list) {
    list = h("ol", {id: "events", class: "events"});
    section.replaceChildren(h("h2", {id: "events-title"}, "Security log"), list, box);
  }
  for (const event of page.events) {
    const kind = event.kind.replace(/_/g, " ");
    const detail = event.details.method_type ? ` (${TYPE_NAMES[event.details.method_type] || event.details.method_type})` : "";
    list.append(h("li", {}, h("strong", {}, kind[0].toUpperCase() + kind.slice(1)), detail, " — ", when(event.at),
                  h("span", {class: "muted"}, ` from ${event.ip || "unknown"}`)));
  }
  section.querySelector("#more-events")?.remove();
  if (page.next_cursor) {
    const more = h("button", {type: "button", class: "secondary", id: "more-events"}, "Show older events");
    more.addEventListener("click", () => busy(more, box, () => renderEvents(section, page.next_cursor, list)));
    section.append(more);
  }
}

// ---------------------------------------------------------------- CLI login approval

async function cliLogin() {
  if (!(await loadAccount()) || account.enrollment_required) {
    sessionStorage.setItem("returnTo", location.pathname + location.search);
    flash = {kind: "notice", text: "Log in to approve the command-line login."};
    return navigate(account ? "/setup" : "/login", true);
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

// ---------------------------------------------------------------- local stage

async function mailboxPage() {
  const {messages} = await api.get("/_dev/mailbox");
  view("Dev mailbox", h("p", {class: "muted"}, "Local stage only: the emails the service sent, newest first."),
    ...messages.map((m) => h("article", {class: "card"},
      h("h2", {}, m.subject), h("p", {class: "muted"}, `To ${m.to.join(", ")} · ${m.sent_at || ""}`),
      h("pre", {}, m.text),
      m.links.length ? h("ul", {}, m.links.map((href) => h("li", {}, h("a", {href}, href)))) : null)));
}

// ---------------------------------------------------------------- start

document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[data-link]");
  if (anchor && anchor.origin === location.origin && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  }
});
window.addEventListener("popstate", render);
fetch("/_dev/mailbox", {headers: {"X-Requested-With": "fetch"}}).then((r) => { devMailbox = r.ok; renderNav(); },
                                                                         () => {});
loadAccount().catch(() => null).finally(render);
