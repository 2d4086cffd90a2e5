// nbprod dashboard: the little JavaScript the pages use. Every page works without it; this
// adds live progress (server-sent events), the compare button's state, and confirmations.
"use strict";

(function () {
  function text(el, value) { if (el) { el.textContent = value; } }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    if (seconds < 60) { return seconds.toFixed(1) + " s"; }
    var m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    if (m < 60) { return m + " min " + (s < 10 ? "0" : "") + s + " s"; }
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  // Live progress: <div data-progress-url="..."> with [data-field] children.
  function live(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var source = new EventSource(url);
    source.onmessage = function (event) {
      var p = JSON.parse(event.data);
      var where = p.cells ? "cell " + (p.cell || 0) + " of " + p.cells : "starting";
      if (p.steps_total) {
        where = "step " + Math.min((p.steps_done || 0) + 1, p.steps_total) + " of " +
          p.steps_total + (p.step ? " (" + p.step + ")" : "") + " · " + where;
      }
      text(box.querySelector("[data-field=where]"), p.final ? p.state : where);
      text(box.querySelector("[data-field=label]"), p.label || "");
      text(box.querySelector("[data-field=elapsed]"), duration(p.elapsed));
      if (bar && p.cells) { bar.max = p.cells; bar.value = p.cell || 0; }
      (p.steps || []).forEach(function (step) {  // a job run's steps, as they finish
        var row = document.querySelector("tr[data-step='" + CSS.escape(step.step) + "']");
        var cell = row && row.querySelector("[data-field=state]");
        var state = step.state === "pending" && step.step === p.step ? "running" : step.state;
        if (cell && cell.textContent.trim() !== state) {
          var badge = document.createElement("span");
          badge.className = "badge state-" + state;
          badge.textContent = state;
          cell.replaceChildren(badge);
        }
      });
      if (box.hasAttribute("data-follow") && (p.run_id || p.job_run_id)) {
        source.close();
        window.location.reload();  // the task page redirects to its run once it has one
        return;
      }
      if (p.final) {
        source.close();
        box.setAttribute("data-final", p.state);
        window.setTimeout(function () { window.location.reload(); }, 400);
      }
    };
    source.onerror = function () {
      text(box.querySelector("[data-field=label]"), "reconnecting…");
    };
  }

  // Runs table: "Compare selected" is enabled with two or more runs ticked.
  function compare(form) {
    var button = form.querySelector("[data-compare]");
    var boxes = form.querySelectorAll("input[name=run]");
    function update() {
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) { n += 1; } });
      button.disabled = n < 2;
      text(button.querySelector("[data-count]"), n ? "(" + n + ")" : "");
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(live);
    document.querySelectorAll("form[data-compare-form]").forEach(compare);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
