// tasks-core dashboard: the timeline (a Gantt) of a flow run's tree of task runs and nested
// flow runs, drawn from the JSON embedded in the page (#run-tree). One row per run in tree
// order, indented by depth; one bar from start to end (running: to now), coloured by state.
// Zoom scales the time axis (buttons, or Ctrl + wheel); a tooltip names each bar; clicking
// a nested flow's bar opens it. Bars are absolutely positioned divs placed by CSS variables
// (--o offset and --d duration in seconds, --s pixels per second), so zooming is one style
// change, not one per bar; rows off screen are not laid out until scrolled to
// (content-visibility in runs.css). Text goes in with textContent only.
"use strict";

const tasksCoreTimeline = (() => {
  const LABEL_PX = 260;
  const REFRESH_MS = 2000;

  const seconds = (iso) => Date.parse(iso) / 1000;

  // The tree as rows [{node, depth}] in tree order (iteratively: any depth).
  function flatten(root) {
    const rows = [];
    const stack = [[root, 0]];
    while (stack.length) {
      const [node, depth] = stack.pop();
      rows.push({ node, depth });
      for (let i = node.children.length - 1; i >= 0; i -= 1) stack.push([node.children[i], depth + 1]);
    }
    return rows;
  }

  function fmtDuration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 120) return `${s.toFixed(1)} s`;
    return `${(s / 60).toFixed(1)} min`;
  }

  function render(box, data) {
    const began = performance.now();
    const now = seconds(data.now);
    const rows = flatten(data.root);
    const starts = rows.filter((r) => r.node.start_time).map((r) => seconds(r.node.start_time));
    const origin = data.root.start_time ? seconds(data.root.start_time)
      : (starts.length ? Math.min(...starts) : now);
    let span = 0;
    const fragment = document.createDocumentFragment();
    const axis = document.createElement("div");
    axis.className = "tl-axis";
    fragment.append(axis);
    rows.forEach(({ node, depth }, index) => {
      const row = document.createElement("div");
      row.className = "tl-row";
      const label = document.createElement("div");
      label.className = "tl-label";
      label.style.paddingLeft = `${6 + depth * 14}px`;
      label.textContent = node.name;
      label.title = node.name;
      const track = document.createElement("div");
      track.className = "tl-track";
      row.append(label, track);
      if (node.start_time) {
        const offset = Math.max(seconds(node.start_time) - origin, 0);
        const end = node.end_time ? seconds(node.end_time) : (node.running ? now : null);
        const length = end === null ? 0 : Math.max(end - seconds(node.start_time), 0);
        span = Math.max(span, offset + length);
        const bar = document.createElement("div");
        const state = node.state.toLowerCase();
        const nested = node.kind === "flow" && index > 0;
        bar.className = `tl-bar state-${state}${node.running ? " running" : ""}${nested ? " nested-flow" : ""}`;
        bar.style.setProperty("--o", offset);
        bar.style.setProperty("--d", length);
        bar.dataset.index = String(index);
        bar.dataset.runId = node.id;
        bar.dataset.kind = node.kind;
        bar.dataset.depth = String(depth);
        bar.dataset.state = node.state;
        track.append(bar);
      } else {
        const note = document.createElement("span");
        note.className = "tl-not-started";
        note.textContent = `${node.state}, not started`;
        track.append(note);
      }
      fragment.append(row);
    });
    box.replaceChildren(fragment);
    box.tlRows = rows;
    box.tlSpan = span;
    box.tlOrigin = origin;
    if (!box.tlScale) fit(box); else scale(box, box.tlScale);
    box.offsetHeight;  // layout now: the time measured includes it
    const took = performance.now() - began;
    box.dataset.renderMs = took.toFixed(1);
    box.dataset.drawnAtMs = performance.now().toFixed(1);  // since the page's navigation
    box.dataset.bars = String(box.querySelectorAll(".tl-bar").length);
    const summary = document.getElementById("tl-summary");
    if (summary) summary.textContent = `${rows.length} runs over ${fmtDuration(span)}`;
    return took;
  }

  function trackWidth(box) {
    return Math.max(box.clientWidth - LABEL_PX - 24, 200);
  }

  function scale(box, pxPerSecond) {
    box.tlScale = pxPerSecond;
    box.style.setProperty("--s", pxPerSecond);
    box.style.setProperty("--w", `${Math.max(box.tlSpan * pxPerSecond, trackWidth(box))}px`);
    ticks(box);
  }

  function fit(box) {
    scale(box, box.tlSpan > 0 ? trackWidth(box) / box.tlSpan : 1);
  }

  function ticks(box) {
    const axis = box.querySelector(".tl-axis");
    if (!axis) return;
    const width = Math.max(box.tlSpan * box.tlScale, trackWidth(box));
    const total = width / box.tlScale;
    const steps = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600];
    const step = steps.find((s) => s * box.tlScale >= 90) || 3600;
    const fragment = document.createDocumentFragment();
    for (let t = 0; t <= total && fragment.childNodes.length < 400; t += step) {
      const tick = document.createElement("span");
      tick.className = "tl-tick";
      tick.style.left = `${LABEL_PX + t * box.tlScale}px`;
      tick.textContent = `+${fmtDuration(t)}`;
      fragment.append(tick);
    }
    axis.replaceChildren(fragment);
  }

  function tooltip(box) {
    const tip = document.createElement("div");
    tip.className = "tl-tip";
    tip.hidden = true;
    document.body.append(tip);
    box.addEventListener("mouseover", (event) => {
      const bar = event.target.closest(".tl-bar");
      if (!bar) { tip.hidden = true; return; }
      const { node } = box.tlRows[Number(bar.dataset.index)];
      const lines = [
        `${node.name} (${node.kind === "flow" ? "flow run" : "task run"})`,
        `State: ${node.state}${node.state_message ? ` — ${node.state_message}` : ""}`,
        `Start: ${node.start_time ? new Date(node.start_time).toISOString() : "—"}`,
        `Duration: ${fmtDuration(node.duration_seconds)}${node.running ? " (running)" : ""}`,
      ];
      if (node.error) lines.push(`Error: ${node.error.type}: ${node.error.message}`);
      tip.textContent = lines.join("\n");
      tip.hidden = false;
    });
    box.addEventListener("mousemove", (event) => {
      const room = window.innerWidth - event.clientX - 24;  // keep it on screen
      const left = tip.offsetWidth > room ? event.pageX - tip.offsetWidth - 12 : event.pageX + 12;
      tip.style.left = `${Math.max(left, 0)}px`;
      tip.style.top = `${event.pageY + 14}px`;
    });
    box.addEventListener("mouseleave", () => { tip.hidden = true; });
  }

  function controls(box) {
    document.querySelectorAll("[data-zoom]").forEach((button) => {
      button.addEventListener("click", () => {
        const how = button.dataset.zoom;
        if (how === "fit") fit(box);
        else scale(box, box.tlScale * (how === "in" ? 2 : 0.5));
      });
    });
    box.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      scale(box, box.tlScale * (event.deltaY < 0 ? 1.25 : 0.8));
    }, { passive: false });
    box.addEventListener("click", (event) => {
      const bar = event.target.closest(".tl-bar.nested-flow");
      if (bar) window.location.assign(`/flow-runs/${encodeURIComponent(bar.dataset.runId)}`);
    });
  }

  const ended = (data) => !data.root.running && data.root.end_time !== null
    || ["Completed", "Cached", "Failed", "Crashed", "Cancelled", "TimedOut"].includes(data.root.state);

  // While the root runs, fetch the tree again and redraw (keeping the zoom).
  function refresh(box, data) {
    if (ended(data)) return;
    setTimeout(async () => {
      try {
        const reply = await fetch(box.dataset.treeUrl, { credentials: "same-origin" });
        if (reply.ok) { data = await reply.json(); render(box, data); }
      } catch (error) { /* try again at the next tick */ }
      refresh(box, data);
    }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("timeline");
    const source = document.getElementById("run-tree");
    if (!box || !source) return;
    const data = JSON.parse(source.textContent);
    render(box, data);
    tooltip(box);
    controls(box);
    refresh(box, data);
  });

  return { render, flatten };
})();
