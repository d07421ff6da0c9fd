// The account page: verification methods, recovery codes, the password, sessions and the security log.
import * as api from "../api.js";
import {alertBox, busy, field, h, statusBox, view, when} from "../dom.js";
import {eventSentence} from "../events.js";
import {METHOD_UI, typeName} from "../methods.js";
import {navigate} from "../router.js";
import {loadAccount, session} from "../session.js";
import {withStepUp} from "../stepup.js";
import {methodPicker} from "./setup.js";
import {emailSection} from "./account-email.js";
import {endOtherSessionsOffer} from "./other-sessions.js";
import {deleteSection} from "./account-delete.js";

export async function accountPage() {
  if (!(await loadAccount())) return navigate("/login", true);
  if (session.account.enrollment_required) return navigate("/setup", true);
  const section = (id) => h("section", {"aria-labelledby": id, "aria-busy": "true"}, h("p", {class: "muted"}, "Loading…"));
  const methodsSection = section("methods-title");
  const codesSection = section("codes-title");
  const sessionsSection = section("sessions-title");
  const eventsSection = section("events-title");
  const passwordSection = h("section", {"aria-labelledby": "password-title"});
  view("Your account", h("p", {}, `Logged in as ${session.account.email}.`),
       emailSection(session.account.email, () => renderEvents(eventsSection)), methodsSection, codesSection,
       passwordSection, sessionsSection, eventsSection, deleteSection());
  // After every change the page shows what it changed: the methods, the recovery-code count,
  // the sessions and the security log are read again.
  const sessionsChanged = () => Promise.all([renderSessions(sessionsSection, sessionsChanged),
                                             renderEvents(eventsSection)]);
  const showMethods = (listed) => renderMethods(methodsSection, listed, methodsChanged, sessionsChanged);
  const methodsChanged = async (listed = null) => {
    listed = listed || await api.get("/v1/account/methods");
    showMethods(listed);
    renderRecoveryCodes(codesSection, listed, {refresh: methodsChanged, showMethods, sessionsChanged});
    await sessionsChanged();
  };
  renderPassword(passwordSection, sessionsChanged);
  await methodsChanged();
  for (const done of [methodsSection, codesSection, sessionsSection, eventsSection]) done.removeAttribute("aria-busy");
}

// Children for replaceChildren(), which, unlike h(), writes a null as the text "null".
const present = (...children) => children.filter((child) => child !== null && child !== undefined);

function renderMethods(section, listed, refresh, sessionsChanged) {
  const box = alertBox();
  const ok = h("p", {class: "success", role: "status", id: "methods-status", tabindex: "-1"});
  const rows = listed.methods.filter((m) => METHOD_UI[m.type]?.listed !== false).map((method) => {
    const actions = h("td", {});
    const rename = h("button", {type: "button", class: "secondary", "aria-label": `Rename ${method.label}`}, "Rename");
    const remove = h("button", {type: "button", class: "secondary", "aria-label": `Remove ${method.label}`}, "Remove");
    const closeConfirmation = (focus) => {
      actions.replaceChildren(rename, remove);
      focus.focus();
    };
    rename.addEventListener("click", () => {
      const input = h("input", {id: `rename-${method.id}`, type: "text", value: method.label, required: true});
      const save = h("button", {type: "submit"}, "Save");
      const form = h("form", {}, h("label", {for: `rename-${method.id}`}, "New name"), input, save,
                     h("button", {type: "button", class: "secondary", onclick: () => closeConfirmation(rename)}, "Cancel"));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        busy(save, box, async () => {
          const renamed = await withStepUp(() => api.patch(`/v1/account/methods/${method.id}`, {label: input.value.trim()}));
          await refresh();
          const done = document.getElementById("methods-status");
          done.textContent = `${method.label} is now called ${renamed.label}.`;
          done.focus();
        });
      });
      actions.replaceChildren(form);
      input.focus();
    });
    remove.addEventListener("click", () => {
      const yes = h("button", {type: "button", class: "danger"}, `Yes, remove ${method.label}`);
      const no = h("button", {type: "button", class: "secondary", onclick: () => closeConfirmation(remove)}, "Keep it");
      yes.addEventListener("click", async () => {
        const left = await busy(yes, box, () => withStepUp(() => api.del(`/v1/account/methods/${method.id}`, {confirm: true})));
        // Refused (or the step-up was cancelled): the reason shows in the alert, the question closes.
        if (!left) return closeConfirmation(remove);
        await refresh(left);
        const done = document.getElementById("methods-status");
        done.textContent = `${method.label} was removed.`;
        done.focus();   // the focused button went with its row
        offerEnding(left.other_sessions);
      });
      actions.replaceChildren(h("p", {role: "alert"}, "Remove this method for good?"), yes, no);
      no.focus();
    });
    actions.append(rename, remove);
    const flags = method.suspicious ? h("span", {class: "badge bad"}, "blocked: may be copied")
      : method.deprecated ? h("span", {class: "badge bad"}, `deprecated: until ${method.usable_until}`) : null;
    const detail = METHOD_UI[method.type]?.detail?.(method) || null;
    return h("tr", {"data-method-id": method.id},
      h("td", {}, h("strong", {}, method.label), " ", flags, detail ? h("div", {class: "muted"}, detail) : null),
      h("td", {}, typeName(method.type)),
      h("td", {}, when(method.created_at)), h("td", {}, when(method.last_used_at)), actions);
  });
  const offerEnding = (count) => {
    const offer = endOtherSessionsOffer(count, sessionsChanged);
    if (offer) document.getElementById("methods-status").after(offer);
  };
  const added = async (result) => {
    await refresh();
    document.getElementById("methods-status").textContent = `${result.method.label} was added.`;
    offerEnding(result.other_sessions);
  };
  section.replaceChildren(...present(
    h("h2", {id: "methods-title"}, "Verification methods"),
    listed.backup_recommended ? h("p", {class: "notice", id: "backup-nudge"},
      "Add a backup method: with a second authenticator or security key and recovery codes, losing one device " +
      "does not lock you out.") : null,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Kind"), h("th", {}, "Added"),
                                         h("th", {}, "Last used"), h("th", {}, "Actions"))),
      h("tbody", {}, rows)),
    box, ok,
    h("h3", {}, "Add a method"), ...methodPicker(added)));
  // A method flagged as possibly copied: the list answers other_sessions then.
  if (listed.methods.some((m) => m.suspicious)) offerEnding(listed.other_sessions);
}

// `showMethods(listed)` redraws the methods list alone, leaving new codes on screen.
function renderRecoveryCodes(section, listed, {refresh, showMethods, sessionsChanged}) {
  const box = alertBox();
  const count = h("p", {id: "codes-count"});
  const generate = h("button", {type: "button"});
  const showCount = (codes) => {
    count.textContent = codes ? `${codes.remaining} of ${codes.total} codes left.`
                              : "No recovery codes yet. They let you log in if you lose your devices.";
    generate.textContent = codes ? "Generate new recovery codes" : "Generate recovery codes";
  };
  showCount(listed.methods.find((m) => m.type === "recovery_codes"));
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
      copy, download, saved, copied, endOtherSessionsOffer(made.other_sessions, sessionsChanged)));
    shown.querySelector("li")?.setAttribute("tabindex", "-1");
    // The rest of the page catches up while the codes stay on screen: this section's count,
    // the methods list (the backup nudge), the sessions and the security log.
    showCount({remaining: made.codes.length, total: made.codes.length});
    const now = await api.get("/v1/account/methods");
    showCount(now.methods.find((m) => m.type === "recovery_codes"));
    showMethods(now);
    await sessionsChanged();
  }));
  section.replaceChildren(h("h2", {id: "codes-title"}, "Recovery codes"), count, generate, box, shown);
}

function renderPassword(section, sessionsChanged) {
  const box = alertBox();
  const ok = statusBox();
  const button = h("button", {type: "submit"}, "Change password");
  const form = h("form", {novalidate: true, id: "change-password"},
    ...field("Current password", {name: "current", type: "password", autocomplete: "current-password", required: true}),
    ...field("New password", {name: "password", type: "password", autocomplete: "new-password", required: true,
                              "aria-describedby": "new-password-help"}),
    h("p", {id: "new-password-help", class: "muted"},
      "At least 12 characters. Every other session, in browsers and on the command line, is ended."),
    box, button, ok);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ok.textContent = "";
    busy(button, box, async () => {
      const {ended_sessions: ended} = await withStepUp(() => api.post("/v1/account/password",
        {current_password: form.current.value, new_password: form.password.value}));
      form.reset();
      ok.textContent = `Your password is changed. ${ended === 1 ? "1 other session" : `${ended} other sessions`} ended.`;
      await sessionsChanged();
    });
  });
  section.replaceChildren(h("h2", {id: "password-title"}, "Password"), form);
}

// `changed()` reads the sessions and the security log again.
async function renderSessions(section, changed) {
  const box = alertBox();
  const {sessions} = await api.get("/v1/account/sessions");
  const rows = sessions.map((s) => {
    const end = s.current ? h("span", {class: "badge"}, "this browser")
      : h("button", {type: "button", class: "secondary", "aria-label": `End session: ${s.device} from ${s.ip || "unknown"}`},
          "End");
    if (!s.current) {
      end.addEventListener("click", () => busy(end, box, async () => {
        await withStepUp(() => api.del(`/v1/account/sessions/${s.id}`));
        await changed();
        section.querySelector("[role=status]").textContent = `The session from ${s.device} was ended.`;
      }));
    }
    const kind = s.kind === "cli" ? "Command line" : s.auth === "sso" ? "Browser (single sign-on)" : "Browser";
    return h("tr", {}, h("td", {}, kind), h("td", {title: s.user_agent || null}, s.device),
             h("td", {}, s.ip || "unknown"), h("td", {}, when(s.created_at)), h("td", {}, when(s.last_seen_at)), h("td", {}, end));
  });
  const others = h("button", {type: "button", class: "secondary"}, "Log out all other sessions");
  others.addEventListener("click", () => busy(others, box, async () => {
    const {revoked} = await withStepUp(() => api.del("/v1/account/sessions?scope=others"));
    await changed();
    section.querySelector("[role=status]").textContent =
      `${revoked} other session${revoked === 1 ? "" : "s"} ended.`;
  }));
  section.replaceChildren(h("h2", {id: "sessions-title"}, "Sessions"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Kind", "Device", "IP address", "Started", "Last active"].map((t) => h("th", {}, t)),
      h("th", {}, h("span", {class: "visually-hidden"}, "Action")))),
      h("tbody", {}, rows)),
    others, box, statusBox());
}

// The security log, newest first, 20 events a page: a table read again after every change.
async function renderEvents(section, cursor = null, rows = null) {
  const box = alertBox();
  const page = await api.get(`/v1/account/events?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  if (!rows) {
    rows = h("tbody", {});
    section.replaceChildren(h("h2", {id: "events-title"}, "Security log"),
      h("table", {id: "events", class: "events"},
        h("thead", {}, h("tr", {}, h("th", {}, "What happened"), h("th", {}, "When"), h("th", {}, "From"))), rows),
      box);
  }
  for (const event of page.events) {
    rows.append(h("tr", {}, h("td", {}, eventSentence(event)), h("td", {}, when(event.at)),
                  h("td", {}, event.ip || "unknown")));
  }
  section.querySelector("#more-events")?.remove();
  if (page.next_cursor) {
    const more = h("button", {type: "button", class: "secondary", id: "more-events"}, "Show older events");
    more.addEventListener("click", () => busy(more, box, () => renderEvents(section, page.next_cursor, rows)));
    section.append(more);
  }
}
