/* Drag-to-sort for the byline and tag inlines (fieldsets with class "sortable-inline").
   Rows can be dragged, or moved with their ↑/↓ buttons (keyboard); each row's
   `position` input is rewritten in row order, and again just before the form is sent. */
(function () {
  "use strict";

  function rows(tbody) {
    return Array.prototype.filter.call(tbody.querySelectorAll("tr.form-row"), function (tr) {
      return !tr.classList.contains("empty-form");
    });
  }

  function positionInput(tr) {
    return tr.querySelector("input[name$='-position']");
  }

  function renumber(tbody) {
    var n = 0;
    rows(tbody).forEach(function (tr) {
      var input = positionInput(tr);
      if (input) input.value = n++;
    });
  }

  function move(tr, delta) {
    var tbody = tr.parentNode;
    var list = rows(tbody);
    var i = list.indexOf(tr);
    var j = i + delta;
    if (j < 0 || j >= list.length) return;
    if (delta < 0) tbody.insertBefore(tr, list[j]);
    else tbody.insertBefore(tr, list[j].nextSibling);
    renumber(tbody);
  }

  function button(label, text, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "sort-button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  var dragged = null;

  function setupRow(tr) {
    if (tr.dataset.sortable || tr.classList.contains("empty-form")) return;
    var input = positionInput(tr);
    if (!input) return;
    tr.dataset.sortable = "1";
    tr.draggable = true;
    tr.classList.add("sortable-row");
    var cell = input.closest("td") || input.parentNode;
    cell.classList.add("sort-cell");
    cell.appendChild(button("Move up", "↑", function () { move(tr, -1); }));
    cell.appendChild(button("Move down", "↓", function () { move(tr, 1); }));
    tr.addEventListener("dragstart", function (e) {
      var tag = e.target && e.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      dragged = tr;
      tr.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", "");
    });
    tr.addEventListener("dragend", function () {
      tr.classList.remove("dragging");
      dragged = null;
      renumber(tr.parentNode);
    });
    tr.addEventListener("dragover", function (e) {
      if (!dragged || dragged === tr || dragged.parentNode !== tr.parentNode) return;
      e.preventDefault();
      var box = tr.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      tr.parentNode.insertBefore(dragged, after ? tr.nextSibling : tr);
    });
    tr.addEventListener("drop", function (e) { e.preventDefault(); });
  }

  function setup(fieldset) {
    var tbody = fieldset.querySelector("tbody");
    if (!tbody) return;
    rows(tbody).forEach(setupRow);
    renumber(tbody);
  }

  function init() {
    var sets = document.querySelectorAll("fieldset.sortable-inline");
    if (!sets.length) return;
    Array.prototype.forEach.call(sets, setup);
    document.addEventListener("formset:added", function (e) {
      var tr = e.target.closest && e.target.closest("tr.form-row");
      if (tr && tr.closest("fieldset.sortable-inline")) {
        setupRow(tr);
        renumber(tr.parentNode);
      }
    });
    var form = sets[0].closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(sets, function (fs) {
          var tbody = fs.querySelector("tbody");
          if (tbody) renumber(tbody);
        });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
