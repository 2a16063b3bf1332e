// tasks-core dashboard: the automation editor. The automation's JSON (the textarea) is the
// source of truth; the form edits the fields it knows and writes the JSON back, and a valid
// JSON edit redraws the form. Saves through /api/automations; values set as text only.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let state = JSON.parse($("automation-data").textContent);

  // Fields of each action type the form offers; other types are edited in the JSON.
  const ACTIONS = {
    "do-nothing": [],
    "run-deployment": [["deployment_id", "Deployment id", "text"], ["deployment_name", "or its name (flow/deployment)", "text"],
                       ["parameters", "Parameters (JSON)", "json"]],
    "pause-work-pool": [["work_pool_name", "Work pool", "text"]],
    "resume-work-pool": [["work_pool_name", "Work pool", "text"]],
    "send-notification": [["to", "To (Apprise URLs, comma separated)", "list"], ["subject", "Subject", "text"],
                          ["body", "Body", "textarea"]],
    "call-webhook": [["url", "URL", "text"], ["method", "Method", "text"], ["payload", "Payload (JSON)", "json"]],
  };
  const FRESH = {
    "do-nothing": {}, "run-deployment": { source: "selected", deployment_id: "", parameters: {} },
    "pause-work-pool": { source: "selected", work_pool_name: "" },
    "resume-work-pool": { source: "selected", work_pool_name: "" },
    "send-notification": { to: [], subject: "tasks-core automated notification", body: "" },
    "call-webhook": { url: "https://", method: "POST" },
  };

  const show = (value, kind) => {
    if (value === undefined || value === null) return "";
    if (kind === "list") return value.join(", ");
    if (kind === "json") return JSON.stringify(value);
    return String(value);
  };

  // The value of an input of `kind`; throws naming `what` when it is not valid.
  function read(input, kind, what) {
    const text = input.value.trim();
    if (kind === "list") return text ? text.split(",").map((s) => s.trim()).filter(Boolean) : [];
    if (kind === "int" || kind === "number") return text === "" ? undefined : Number(text);
    if (kind === "json") {
      if (text === "") return undefined;
      try { return JSON.parse(text); } catch (e) { throw new Error(`${what}: not valid JSON`); }
    }
    if (kind === "text" && text === "") return undefined;
    return input.value;
  }

  function writeJson() {
    $("automation-json").value = JSON.stringify(state, null, 2);
    $("json-error").textContent = "";
  }

  function setPath(path, value) {
    const parts = path.split(".");
    let target = state;
    for (const part of parts.slice(0, -1)) target = target[part];
    const last = parts[parts.length - 1];
    if (value === undefined) delete target[last]; else target[last] = value;
  }

  function getPath(path) {
    return path.split(".").reduce((at, part) => (at == null ? undefined : at[part]), state);
  }

  function actionRow(action, index) {
    const row = document.createElement("div");
    row.className = "action-row";
    row.dataset.index = String(index);
    const select = document.createElement("select");
    select.className = "action-type";
    const types = Object.keys(ACTIONS);
    if (!types.includes(action.type)) types.push(action.type);
    for (const type of types) {
      const option = document.createElement("option");
      option.value = type;
      option.textContent = type;
      option.selected = type === action.type;
      select.append(option);
    }
    select.addEventListener("change", () => {
      state.actions[index] = { type: select.value, ...(FRESH[select.value] || {}) };
      writeJson();
      drawForm();
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => { state.actions.splice(index, 1); writeJson(); drawForm(); });
    row.append(select, " ", remove);
    const fields = ACTIONS[action.type];
    if (!fields) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = "Edit this action in the JSON.";
      row.append(note);
    }
    for (const [name, label, kind] of fields || []) {
      const wrap = document.createElement("label");
      wrap.textContent = label + " ";
      const input = document.createElement(kind === "json" || kind === "textarea" ? "textarea" : "input");
      if (input.tagName === "TEXTAREA") input.rows = 2;
      input.name = `actions.${index}.${name}`;
      input.value = show(action[name], kind);
      input.addEventListener("input", () => {
        try {
          const value = read(input, kind, label);
          if (value === undefined) delete action[name]; else action[name] = value;
          writeJson();
        } catch (e) { $("json-error").textContent = e.message; }
      });
      wrap.append(input);
      row.append(wrap);
    }
    return row;
  }

  function drawForm() {
    const isEvent = (state.trigger || {}).type === "event" || !(state.trigger || {}).type;
    $("event-trigger").hidden = !isEvent;
    $("trigger-other").hidden = isEvent;
    for (const input of document.querySelectorAll("#automation-form [data-path]")) {
      input.value = show(getPath(input.dataset.path), input.dataset.kind);
    }
    const box = $("actions");
    box.replaceChildren(...(state.actions || []).map(actionRow));
  }

  function bindForm() {
    for (const input of document.querySelectorAll("#automation-form [data-path]")) {
      const handler = () => {
        try {
          if (input.dataset.path.startsWith("trigger.") && !state.trigger) state.trigger = { type: "event" };
          setPath(input.dataset.path, read(input, input.dataset.kind || "raw", input.dataset.path));
          writeJson();
        } catch (e) { $("json-error").textContent = e.message; }
      };
      input.addEventListener("input", handler);
      input.addEventListener("change", handler);
    }
    $("add-action").addEventListener("click", () => {
      state.actions = [...(state.actions || []), { type: "do-nothing" }];
      writeJson();
      drawForm();
    });
    $("automation-json").addEventListener("input", () => {
      try {
        const parsed = JSON.parse($("automation-json").value);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("must be an object");
        state = parsed;
        $("json-error").textContent = "";
        drawForm();
      } catch (e) { $("json-error").textContent = `JSON: ${e.message}`; }
    });
  }

  const automationId = () => $("automation").dataset.automationId;

  async function save(event) {
    event.preventDefault();
    $("save-error").textContent = "";
    const id = automationId();
    try {
      const saved = id
        ? await tasksCore.api("PUT", `/api/automations/${encodeURIComponent(id)}`, state)
        : await tasksCore.api("POST", "/api/automations", state);
      window.location.assign(`/automations/${encodeURIComponent(saved.id)}`);
    } catch (failure) {
      $("save-error").textContent = failure.message;
    }
  }

  async function setEnabled(action) {
    try {
      await tasksCore.api("POST", `/api/automations/${encodeURIComponent(automationId())}/${action}`);
      window.location.reload();
    } catch (failure) { $("state-error").textContent = failure.message; }
  }

  async function test() {
    $("state-error").textContent = "";
    try {
      const found = await tasksCore.api("POST", `/api/automations/${encodeURIComponent(automationId())}/test`,
                                        { since: "1h" });
      $("test-summary").textContent = found.summary;
      $("test-reason").textContent = found.fired
        ? `${found.firing_count} firing(s) from ${found.events} events replayed (no action ran).`
        : `${found.reason ? found.reason.message : "it did not fire"} (${found.events} events replayed).`;
      $("test-result").hidden = false;
    } catch (failure) { $("state-error").textContent = failure.message; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    writeJson();
    drawForm();
    bindForm();
    $("automation-form").addEventListener("submit", save);
    document.querySelectorAll("[data-action]").forEach((button) => {
      button.addEventListener("click", () => setEnabled(button.dataset.action));
    });
    if ($("test")) $("test").addEventListener("click", test);
  });
})();
