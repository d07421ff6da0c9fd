// DOM helpers shared by every view: h() builds elements, view() fills <main> (with the flash
// message of the previous view), busy() runs an action behind a disabled button and shows
// its error in an alert box. Focus never falls to <body>: see busy() and keepFocusInPlace().
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
let boxes = 0;
// An error box; its id lets a failing field point at it (aria-describedby).
export const alertBox = () => h("p", {class: "error", role: "alert", id: `error-${++boxes}`, tabindex: "-1"});
export const statusBox = () => h("p", {class: "success", role: "status"});

// A status region inserted with its text may not be announced: screen readers announce a
// change of a region they already know. So its text (plain text only) is taken out and put
// back once the region is in the page, unless something wrote to it meanwhile.
function announceOnceInPage(region) {
  const text = region.textContent;
  region.textContent = "";
  setTimeout(() => { if (!region.textContent) region.textContent = text; }, 50);
}

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

// An error that means "the person stopped it" (the step-up dialog cancelled): focus stays on
// the control they used rather than moving to the error.
export class Cancelled extends Error {}

// Runs `action` with the button disabled, showing any error in `box`. The button is
// aria-disabled rather than disabled: a disabled button loses focus to <body>, and the
// step-up dialog could not give focus back to it. A failure moves focus to the failing field
// (aria-invalid, described by the error) or to the error itself.
export async function busy(button, box, action) {
  if (button.getAttribute("aria-disabled") === "true") return undefined;   // already running
  if (box) box.textContent = "";
  for (const marked of button.form?.querySelectorAll("[aria-invalid]") || []) unmarkInvalid(marked);
  button.setAttribute("aria-disabled", "true");
  try {
    return await action();
  } catch (error) {
    if (box) show(box, error);
    if (error instanceof api.ApiError && error.status === 401 && error.code === "unauthenticated") {
      sessionLost(error);
    } else {
      focusFailure(button, box, error);
    }
    return undefined;
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

function focusFailure(button, box, error) {
  if (error instanceof Cancelled) {
    if (button.isConnected) button.focus();
    return;
  }
  if (!box || !box.isConnected) return;
  const input = failingField(button.form, error);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.dataset.describedBefore = input.getAttribute("aria-describedby") || "";
    input.setAttribute("aria-describedby", `${input.dataset.describedBefore} ${box.id}`.trim());
    input.focus();
  } else {
    box.focus();
  }
}

function unmarkInvalid(input) {
  input.removeAttribute("aria-invalid");
  if (input.dataset.describedBefore) input.setAttribute("aria-describedby", input.dataset.describedBefore);
  else input.removeAttribute("aria-describedby");
  delete input.dataset.describedBefore;
}

// The field a refused request was about: the one the API's details name, or a form's only
// field; none when the refusal is not about what was typed (too many tries, the service down).
function failingField(form, error) {
  if (!form || !(error instanceof api.ApiError) || error.status < 400 || error.status >= 500 || error.status === 429) {
    return null;
  }
  const inputs = [...form.querySelectorAll("input:not([type=hidden])")];
  const named = (error.body.details || []).map((d) => inputs.find((i) => i.name === d.field)).find(Boolean);
  return named || (inputs.length === 1 ? inputs[0] : null);
}

// On narrow screens a table row is shown as a block (style.css): each cell is labelled with
// its column's header (a visually hidden header labels nothing).
function labelCells() {
  for (const table of main.querySelectorAll("table")) {
    const headers = [...table.querySelectorAll("thead th")]
      .map((th) => (th.querySelector(".visually-hidden") ? "" : th.textContent.trim()));
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, column) => {
        if (headers[column] && !cell.dataset.label) cell.dataset.label = headers[column];
      });
    }
  }
}

// When the focused element leaves the page (a section redrawn, a form replaced by its
// result), focus would fall to <body> and a keyboard or screen-reader user would start
// again from the top: it goes to the heading of the nearest part of the page still there.
let focusedPath = [];
document.addEventListener("focusin", (event) => {
  focusedPath = [];
  for (let el = event.target; el && el !== document.body; el = el.parentElement) focusedPath.push(el);
});
document.addEventListener("focusout", (event) => {
  // Focus moved to nothing by the person (a click on the page's background): not a loss to repair.
  if (!event.relatedTarget) setTimeout(() => { if (event.target.isConnected) focusedPath = []; }, 0);
});

function keepFocusInPlace() {
  if (!focusedPath.length || focusedPath[0].isConnected || document.activeElement !== document.body) return;
  const remaining = focusedPath.find((el) => el.isConnected);
  focusedPath = [];
  const part = remaining?.closest("section, dialog[open], main") || main;
  const heading = part.querySelector("h1, h2, h3") || main.querySelector("h1");
  if (!heading) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus();
}

// Each change of the page: new status regions, table cells' labels, focus kept in place.
new MutationObserver((records) => {
  for (const node of records.flatMap((record) => [...record.addedNodes])) {
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    for (const region of [node, ...node.querySelectorAll("[role=status]")]) {
      if (region.matches("[role=status]") && region.textContent && !region.children.length) announceOnceInPage(region);
    }
  }
  labelCells();
  keepFocusInPlace();
}).observe(document.body, {childList: true, subtree: true});

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
