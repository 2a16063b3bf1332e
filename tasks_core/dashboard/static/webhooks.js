// tasks-core dashboard: webhook pages. The create form's live preview (debounced calls to
// POST /api/webhooks/preview), create / enable / disable / rotate / delete through
// tasksCore.api, secrets shown once (textContent only), and Copy buttons.
"use strict";

(() => {
  const api = (method, url, body) => tasksCore.api(method, url, body);
  const hookPath = (id) => `/api/webhooks/${encodeURIComponent(id)}`;

  function showError(error) {
    const box = document.getElementById("hook-error");
    box.textContent = error ? error.message : "";
    box.hidden = !error;
  }

  // The live region (#hooks) also reloads on webhook events; reload it now after a change.
  async function reloadList() {
    const region = document.getElementById("hooks");
    const url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    const reply = await fetch(url, { credentials: "same-origin" });
    if (reply.ok) region.innerHTML = await reply.text();  // a server-rendered partial
  }

  function showSecret(title, hook) {
    document.getElementById("secret-title").textContent = title;
    document.getElementById("secret-url").textContent = hook.url;
    document.getElementById("secret-value").textContent = hook.secret;
    document.getElementById("secret-box").hidden = false;
  }

  // Copy: the clipboard when the browser allows it, else select the text for Ctrl+C.
  async function copy(button) {
    const source = document.querySelector(button.dataset.copy);
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (_error) {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  }

  async function act(button) {
    const { action, id } = button.dataset;
    if (action === "delete" && !window.confirm("Delete this webhook? Its URL stops working.")) {
      return;
    }
    showError(null);
    button.disabled = true;
    try {
      if (action === "delete") {
        await api("DELETE", hookPath(id));
      } else if (action === "rotate") {
        const hook = await api("POST", `${hookPath(id)}/rotate_secret`);
        showSecret(`New secret of ${hook.name} (the old one no longer works)`, hook);
      } else {
        await api("POST", `${hookPath(id)}/${action}`);
      }
      await reloadList();
    } catch (error) {
      showError(error);
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const copyButton = event.target.closest("button.copy");
    if (copyButton) { copy(copyButton); return; }
    const actionButton = event.target.closest("button.hook-action");
    if (actionButton) act(actionButton);
  });

  const form = document.getElementById("create-webhook");
  if (!form) return;

  function draft() {
    const methods = [...form.querySelectorAll("input[name=methods]:checked")]
      .map((box) => box.value);
    const template = form.elements.template.value;
    return {
      name: form.elements.name.value.trim(),
      template: template.trim() === "" ? null : template,
      methods,
      auth: form.elements.auth.value,
      cloudevents: form.elements.cloudevents.checked,
    };
  }

  let timer = null;
  let asked = 0;
  async function preview() {
    const mine = ++asked;
    const spec = draft();
    const out = document.getElementById("preview");
    try {
      const reply = await api("POST", "/api/webhooks/preview", {
        template: spec.template, body: form.elements.sample_body.value,
        method: spec.methods.includes("POST") || spec.methods.length === 0 ? "POST" : spec.methods[0],
        cloudevents: spec.cloudevents, name: spec.name || "new webhook",
      });
      if (mine !== asked) return;  // a newer preview is on its way
      out.textContent = JSON.stringify(reply.event, null, 2);
      out.classList.remove("failed");
    } catch (error) {
      if (mine !== asked) return;
      out.textContent = error.message;
      out.classList.add("failed");
    }
    out.dataset.rendered = String(mine);
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(preview, 250); };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  preview();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const hook = await api("POST", "/api/webhooks", draft());
      showSecret(`Created ${hook.name}`, hook);
      await reloadList();
    } catch (error) {
      showError(error);
    }
  });
})();
