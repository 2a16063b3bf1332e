// tasks-core dashboard: live regions and API calls. No dependencies, no build step.
"use strict";

const tasksCore = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // Call the API from a page: same-origin, the session cookie, the CSRF token on writes.
  // Resolves to the parsed JSON reply (or null for 204); rejects with the reply's detail.
  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const reply = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.text();
    const data = text ? JSON.parse(text) : null;
    if (!reply.ok) {
      const detail = data && data.detail;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return data;
  }

  // An element with data-live="<event glob>" is reloaded (this page with ?partial=1) when
  // such an event arrives on the API's event stream; reloads are at most one per 300 ms.
  function live(element) {
    const glob = element.dataset.live;
    const source = new EventSource(`/api/events/stream?event=${encodeURIComponent(glob)}`);
    let timer = null;
    const reload = async () => {
      timer = null;
      const url = new URL(window.location.href);
      url.searchParams.set("partial", "1");
      const reply = await fetch(url, { credentials: "same-origin" });
      if (reply.ok) {
        element.innerHTML = await reply.text();
        element.dispatchEvent(new CustomEvent("tc:reloaded", { bubbles: true }));
      }
    };
    source.onmessage = () => { if (timer === null) timer = setTimeout(reload, 300); };
    // "connected" once the server answered: it has fixed where its stream starts, so an
    // event written from now on reaches this page (EventSource reconnects by itself, from
    // the last event it had)
    element.dataset.liveState = "connecting";
    source.onopen = () => { element.dataset.liveState = "connected"; };
    source.onerror = () => { element.dataset.liveState = "connecting"; };
    return source;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live]").forEach(live);
  });

  return { api, live };
})();
