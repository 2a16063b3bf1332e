// tasks-core dashboard: a deployment's page. Pause/Resume, and the Run form generated from
// the stored parameter schema (string, number, integer, boolean inputs; JSON for the rest).
// Values are set with textContent / value, never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const json = (id) => JSON.parse($(id).textContent);
  const SIMPLE = ["string", "number", "integer", "boolean"];

  // The input kind of one schema property: a simple type, or "json" (arrays, objects,
  // unions, anything else), which is typed as JSON text.
  function kindOf(spec) {
    let type = spec.type;
    if (!type && Array.isArray(spec.anyOf)) {  // Optional[X]: X
      const real = spec.anyOf.filter((s) => s.type !== "null");
      if (real.length === 1) type = real[0].type;
    }
    if (Array.isArray(spec.enum)) return "enum";
    return SIMPLE.includes(type) ? type : "json";
  }

  function field(name, spec, required, value) {
    const kind = kindOf(spec);
    const label = document.createElement("label");
    label.className = "param";
    const title = document.createElement("span");
    title.textContent = `${name}${required ? " *" : ""} (${kind === "json" ? "JSON" : kind})`;
    label.append(title);
    let input;
    if (kind === "enum") {  // one option per allowed value, each holding its JSON
      input = document.createElement("select");
      const choices = required ? spec.enum : [undefined, ...spec.enum];
      for (const choice of choices) {
        const option = document.createElement("option");
        option.value = choice === undefined ? "" : JSON.stringify(choice);
        option.textContent = choice === undefined ? "(default)" : String(choice);
        option.selected = choice !== undefined && JSON.stringify(choice) === JSON.stringify(value);
        input.append(option);
      }
    } else if (kind === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = value === true;
    } else if (kind === "json") {
      input = document.createElement("textarea");
      input.rows = 3;
      input.value = value === undefined ? "" : JSON.stringify(value, null, 1);
    } else {
      input = document.createElement("input");
      input.type = kind === "string" ? "text" : "number";
      if (kind === "integer") input.step = "1";
      if (kind === "number") input.step = "any";
      input.value = value === undefined || value === null ? "" : String(value);
    }
    input.name = name;
    input.dataset.kind = kind;
    input.required = required && kind !== "boolean";
    label.append(input);
    return label;
  }

  function buildForm() {
    const schema = json("param-schema");
    const defaults = json("param-defaults");
    const required = new Set(schema.required || []);
    const box = $("run-fields");
    box.replaceChildren();
    const properties = schema.properties || {};
    for (const [name, spec] of Object.entries(properties)) {
      const value = name in defaults ? defaults[name] : spec.default;
      box.append(field(name, spec, required.has(name), value));
    }
    if (!Object.keys(properties).length) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = "This flow takes no parameters.";
      box.append(note);
    }
  }

  // The parameters typed in the form; throws an Error naming a field that is not valid.
  function readForm() {
    const parameters = {};
    for (const input of $("run-fields").querySelectorAll("[data-kind]")) {
      const kind = input.dataset.kind;
      if (kind === "boolean") { parameters[input.name] = input.checked; continue; }
      const text = input.value.trim();
      if (text === "") continue;  // the deployment's default (or a 422 if required)
      if (kind === "string") parameters[input.name] = input.value;
      else if (kind === "enum") parameters[input.name] = JSON.parse(text);
      else if (kind === "json") {
        try { parameters[input.name] = JSON.parse(text); }
        catch (error) { throw new Error(`${input.name}: not valid JSON (${error.message})`); }
      } else parameters[input.name] = Number(text);
    }
    return parameters;
  }

  async function run(event) {
    event.preventDefault();
    const error = $("run-error");
    error.textContent = "";
    const id = $("deployment").dataset.deploymentId;
    try {
      const created = await tasksCore.api("POST", `/api/deployments/${encodeURIComponent(id)}/runs`,
                                          { parameters: readForm() });
      const link = $("run-link");
      link.href = `/flow-runs/${encodeURIComponent(created.id)}`;
      link.textContent = `${created.name} (${created.id.slice(0, 8)})`;
      $("run-created").hidden = false;
      $("run-form").hidden = true;
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  async function pause(action) {
    const id = $("deployment").dataset.deploymentId;
    try {
      await tasksCore.api("POST", `/api/deployments/${encodeURIComponent(id)}/${action}`);
      window.location.reload();
    } catch (failure) {
      $("pause-error").textContent = failure.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("run-open").addEventListener("click", () => {
      buildForm();
      $("run-form").hidden = false;
      $("run-created").hidden = true;
    });
    $("run-cancel").addEventListener("click", () => { $("run-form").hidden = true; });
    $("run-form").addEventListener("submit", run);
    document.querySelectorAll("#paused [data-action]").forEach((button) => {
      button.addEventListener("click", () => pause(button.dataset.action));
    });
  });
})();
