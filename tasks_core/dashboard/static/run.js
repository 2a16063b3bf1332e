// tasks-core dashboard, run pages: the logs of a run, fetched every second while it is not
// terminal (and once more after it ends). Values are set as text, never as markup.
"use strict";

(() => {
  const POLL_MS = 1000;

  const terminal = () => {
    const facts = document.querySelector("#run-live .run-facts");
    return facts !== null && facts.dataset.terminal === "true";
  };

  function line(entry) {
    const row = document.createElement("div");
    const level = String(entry.level || "").toUpperCase();
    row.className = `log log-${level.toLowerCase()}`;
    const when = document.createElement("span");
    when.className = "log-time";
    when.textContent = entry.timestamp ? new Date(typeof entry.timestamp === "number"
      ? entry.timestamp * 1000 : entry.timestamp).toISOString().replace("T", " ").slice(0, 23)
      : "";
    const lvl = document.createElement("span");
    lvl.className = "log-level";
    lvl.textContent = level;
    const text = document.createElement("span");
    text.className = "log-message";
    text.textContent = (entry.logger ? `${entry.logger}: ` : "") + String(entry.message ?? "");
    row.append(when, lvl, text);
    return row;
  }

  function follow(box) {
    let shown = 0;
    let done = false;
    const poll = async () => {
      const last = terminal();  // read before fetching: entries written before the end arrive
      try {
        const reply = await fetch(box.dataset.url, { credentials: "same-origin" });
        if (reply.ok) {
          const entries = await reply.json();
          if (entries.length > shown) {
            const empty = box.querySelector("[data-empty]");
            if (empty) empty.remove();
            const fragment = document.createDocumentFragment();
            entries.slice(shown).forEach((entry) => fragment.append(line(entry)));
            box.append(fragment);
            shown = entries.length;
          }
        }
      } catch (error) {
        // the server went away for a moment: try again at the next tick
      }
      box.dataset.entries = String(shown);
      if (last) done = true;
      box.dataset.following = done ? "done" : "yes";
      if (!done) setTimeout(poll, POLL_MS);
    };
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("logs");
    if (box) follow(box);
  });
})();
