// History routing: a route is a function that fills <main>; links with data-link are routed
// here without a page load, so the page works as static files behind any web server.
import * as api from "./api.js";
import {busy, explain, h, link, onSessionLost, setFlash, view} from "./dom.js";
import {loadAccount, session} from "./session.js";

const nav = document.getElementById("nav");
let routes = {};
let notFound = () => {};

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

export function renderNav() {
  const items = [];
  const {account} = session;
  if (account && !account.enrollment_required) items.push(link("/account", "Account"));
  if (account) {
    const out = h("button", {class: "secondary", type: "button"}, "Log out");
    out.addEventListener("click", () => busy(out, null, async () => {
      await api.post("/v1/logout");
      session.account = null;
      setFlash("success", "You are logged out.");
      navigate("/login");
    }));
    items.push(out);
  } else {
    items.push(link("/login", "Log in"), link("/signup", "Sign up"));
  }
  if (session.devMailbox) items.push(link("/dev/mailbox", "Dev mailbox"));
  nav.replaceChildren(...items);
}

// Routes `table` (path → view function; `fallback` for any other path) from now on; the
// current address is shown once the account is known.
export function start(table, fallback) {
  routes = table;
  notFound = fallback;
  onSessionLost((error) => {
    session.account = null;
    setFlash("error", explain(error));
    navigate("/login");
  });
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest("a[data-link]");
    if (anchor && anchor.origin === location.origin && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      navigate(anchor.pathname + anchor.search);
    }
  });
  window.addEventListener("popstate", render);
  loadAccount().catch(() => null).finally(render);
}
