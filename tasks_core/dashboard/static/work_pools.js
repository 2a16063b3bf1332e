// tasks-core dashboard: work pool pages. Pause / Resume and the concurrency form call the
// API (tasksCore.api, with the CSRF token); the page's live region then shows the result.
"use strict";

(() => {
  const path = (name) => `/api/work_pools/${encodeURIComponent(name)}`;

  function showError(error) {
    const box = document.getElementById("pool-error");
    box.textContent = error.message;
    box.hidden = false;
  }

  async function done(promise) {
    try {
      await promise;
      window.location.reload();
    } catch (error) {
      showError(error);
    }
  }

  // Delegated: the live region's HTML is replaced on reloads.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.pool-action");
    if (!button) return;
    button.disabled = true;
    done(tasksCore.api("POST", `${path(button.dataset.pool)}/${button.dataset.action}`));
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form.concurrency");
    if (!form) return;
    event.preventDefault();
    const text = form.elements.concurrency_limit.value.trim();
    const limit = text === "" ? null : Number(text);
    done(tasksCore.api("PUT", `${path(form.dataset.pool)}/concurrency_limit`,
                       { concurrency_limit: limit }));
  });
})();
