// DOM helpers shared by every view: h() builds elements, view() fills <main> (with the flash
// message of the previous view), busy() runs an action behind a disabled button and shows
// its error in an alert box.
import * as api from "./api.js";
import * as webauthn from "./webauthn.js";

const main = document.getElementById("app");
let flash = null;             // a message shown on the next view
let sessionLost = () => {};   // what busy() does when the API says the session ended (router.js)

export function h(tag, attrs = {}, ...children) {
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

export const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "never");
export const link = (href, text, attrs = {}) => h("a", {href, "data-link": true, ...attrs}, text);
export const alertBox = () => h("p", {class: "error", role: "alert"});
export const statusBox = () => h("p", {class: "success", role: "status"});

export function explain(error) {
  return webauthn.describeBrowserError(error) || api.describe(error);
}

export function show(box, error) {
  box.textContent = explain(error);
}

// A message for the next view(): kind is "success", "error" or "notice".
export function setFlash(kind, text) {
  flash = {kind, text};
}

// What busy() does when an action finds the session ended (401 unauthenticated).
export function onSessionLost(handler) {
  sessionLost = handler;
}

// Runs `action` with the button disabled, showing any error in `box`.
export async function busy(button, box, action) {
  if (box) box.textContent = "";
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (box) show(box, error);
    if (error instanceof api.ApiError && error.status === 401 && error.code === "unauthenticated") {
      sessionLost(error);
    }
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function view(title, ...children) {
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

export function field(labelText, attrs) {
  const id = attrs.id || `f-${attrs.name}`;
  return [h("label", {for: id}, labelText), h("input", {id, ...attrs})];
}

// A new password's field with the policy in words (the API checks it: PasswordRejected).
export function newPasswordField(labelText) {
  return [
    ...field(labelText, {name: "password", type: "password", autocomplete: "new-password", required: true,
                         "aria-describedby": "password-help"}),
    h("p", {id: "password-help", class: "muted"},
      "At least 12 characters; a long phrase that is not used elsewhere is best."),
  ];
}

// While the browser waits for an authenticator (one that is not registered never answers),
// a Cancel button ends the wait.
export function ceremonyPrompt(area) {
  const controller = new AbortController();
  const cancel = h("button", {type: "button", class: "secondary", onclick: () => controller.abort()}, "Cancel");
  area.replaceChildren(h("p", {class: "notice", role: "status"}, "Follow your browser's prompt…"), cancel);
  return controller;
}
