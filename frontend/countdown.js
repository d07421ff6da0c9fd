// A live "m:ss left" for something that expires at a time the API gave (seconds since the
// epoch): the text is rewritten every second while the element is on the page, and onEnd
// runs once when the time is up. Not a live region: a screen reader would hear every second.
import {h} from "./dom.js";

export function minutesAndSeconds(seconds) {
  const left = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

// words(left) => the text for `left` ("4:59"); returns the element to place.
export function countdown(expiresAt, words, onEnd = () => {}, attrs = {}) {
  const el = h("p", {class: "muted countdown", ...attrs});
  let started = false;
  const tick = () => {
    if (started && !el.isConnected) return;   // the view moved on
    started = true;
    const seconds = expiresAt - Date.now() / 1000;
    el.textContent = words(minutesAndSeconds(seconds));
    if (seconds <= 0) {
      onEnd();
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();
  return el;
}
