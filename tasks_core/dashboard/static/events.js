// tasks-core dashboard: the event page's Formatted / Raw tabs. No dependencies.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const tabs = document.querySelectorAll(".tabs .tab");
  tabs.forEach((tab) => tab.addEventListener("click", () => {
    tabs.forEach((other) => {
      const chosen = other === tab;
      other.setAttribute("aria-selected", String(chosen));
      document.getElementById(`tab-${other.dataset.tab}`).hidden = !chosen;
    });
  }));
});
