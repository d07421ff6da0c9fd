// The local stage's dev mailbox: the emails the service sent (GET /_dev/mailbox).
import * as api from "../api.js";
import {h, view} from "../dom.js";

export async function mailboxPage() {
  const {messages} = await api.get("/_dev/mailbox");
  view("Dev mailbox", h("p", {class: "muted"}, "Local stage only: the emails the service sent, newest first."),
    ...messages.map((m) => h("article", {class: "card"},
      h("h2", {}, m.subject), h("p", {class: "muted"}, `To ${m.to.join(", ")} · ${m.sent_at || ""}`),
      h("pre", {}, m.text),
      m.links.length ? h("ul", {}, m.links.map((href) => h("li", {}, h("a", {href}, href)))) : null)));
}
