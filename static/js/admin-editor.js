/* The post change form: live preview with word count and pre-publish checks,
   unsaved typing kept in localStorage, and "also editing" presence pings.
   Settings come from #post-editor-config's data- attributes (no inline script). */
(function () {
  "use strict";

  var DRAFT_PREFIX = "blogsite:draft:";
  var SAVING = "blogsite:saving";
  var PREVIEW_DELAY = 300;
  var DRAFT_DELAY = 800;
  var PRESENCE_EVERY = 30000;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function storage(kind) {
    try {
      return window[kind];
    } catch (e) {
      return null; // storage disabled: the editor still works, without drafts
    }
  }

  var local = storage("localStorage");
  var session = storage("sessionStorage");

  /* A save was sent from the last page: if this page shows no errors, it worked,
     and the kept draft is no longer needed. */
  function settlePendingSave(config) {
    if (!session || !local) return;
    var pending = session.getItem(SAVING);
    if (!pending) return;
    session.removeItem(SAVING);
    var failed = config && config.dataset.hasErrors === "1" && config.dataset.draftKey === pending;
    if (!failed) local.removeItem(DRAFT_PREFIX + pending);
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, form, data) {
    var body = new FormData();
    Object.keys(data).forEach(function (k) { body.append(k, data[k]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form) }
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function byId(id) { return document.getElementById(id); }

  function renderProblems(list, problems) {
    list.textContent = "";
    if (!problems.length) {
      var ok = document.createElement("li");
      ok.className = "prepublish__ok";
      ok.textContent = "No problems found.";
      list.appendChild(ok);
      return;
    }
    problems.forEach(function (p) {
      var li = document.createElement("li");
      li.dataset.code = p.code;
      li.textContent = p.message;
      list.appendChild(li);
    });
  }

  function setupSummaryCounter(summary) {
    if (!summary) return;
    var max = parseInt(summary.dataset.max || "160", 10);
    var counter = document.createElement("span");
    counter.className = "summary-count";
    counter.id = "summary-count";
    counter.setAttribute("aria-live", "polite");
    summary.setAttribute("aria-describedby", "summary-count");
    summary.insertAdjacentElement("afterend", counter);
    function update() {
      var n = summary.value.trim().length;
      counter.textContent = n + " / " + max + " characters";
      counter.classList.toggle("summary-count--over", n > max);
    }
    summary.addEventListener("input", update);
    update();
  }

  function init() {
    var config = byId("post-editor-config");
    settlePendingSave(config);
    if (!config) return;
    var form = config.closest("form");
    var body = byId("id_body");
    var title = byId("id_title");
    var summary = byId("id_summary");
    var format = byId("id_body_format");
    var coverAlt = byId("id_cover_alt");
    var coverFile = byId("id_cover_image");
    var coverClear = byId("cover_image-clear_id");
    var previewEl = byId("editor-preview");
    var stateEl = byId("editor-preview-state");
    var stats = byId("editor-stats");
    var problemsList = byId("prepublish-list");
    var draftKey = DRAFT_PREFIX + config.dataset.draftKey;
    if (!form || !body) return;

    setupSummaryCounter(summary);

    // --- Live preview ---------------------------------------------------------------
    var sent = 0;
    function hasCover() {
      if (coverClear && coverClear.checked) return false;
      return config.dataset.hasCover === "1" || !!(coverFile && coverFile.files && coverFile.files.length);
    }
    function refresh() {
      var mine = ++sent;
      if (stateEl) stateEl.textContent = "(updating…)";
      post(config.dataset.previewUrl, form, {
        body: body.value,
        body_format: format ? format.value : "markdown",
        summary: summary ? summary.value : "",
        cover_alt: coverAlt ? coverAlt.value : "",
        has_cover: hasCover() ? "1" : "0"
      }).then(function (data) {
        if (mine !== sent) return; // a newer request is on its way
        // The server's own renderer sanitised this HTML: it is what readers get.
        previewEl.innerHTML = data.html;
        stats.textContent = data.words + " words · " + data.minutes + " min read";
        if (problemsList) renderProblems(problemsList, data.problems);
        if (stateEl) stateEl.textContent = "";
      }).catch(function () {
        if (mine === sent && stateEl) stateEl.textContent = "(preview unavailable; your text is safe)";
      });
    }
    var refreshSoon = debounce(refresh, PREVIEW_DELAY);
    [body, summary, coverAlt].forEach(function (el) {
      if (el) el.addEventListener("input", refreshSoon);
    });
    [format, coverFile, coverClear].forEach(function (el) {
      if (el) el.addEventListener("change", refreshSoon);
    });
    refresh();

    // --- Unsaved typing kept in the browser -----------------------------------------
    var fields = { title: title, summary: summary, body: body };
    var loaded = {};
    Object.keys(fields).forEach(function (k) { loaded[k] = fields[k] ? fields[k].value : ""; });

    function current() {
      var out = {};
      Object.keys(fields).forEach(function (k) { out[k] = fields[k] ? fields[k].value : ""; });
      return out;
    }
    function differs(a, b) {
      return Object.keys(fields).some(function (k) { return (a[k] || "") !== (b[k] || ""); });
    }
    function keepDraft() {
      if (!local) return;
      var now = current();
      if (!differs(now, loaded)) {
        local.removeItem(draftKey);
        return;
      }
      now.savedAt = Date.now();
      try {
        local.setItem(draftKey, JSON.stringify(now));
      } catch (e) { /* quota full: nothing more we can do here */ }
    }
    var keepDraftSoon = debounce(keepDraft, DRAFT_DELAY);
    Object.keys(fields).forEach(function (k) {
      if (fields[k]) fields[k].addEventListener("input", keepDraftSoon);
    });
    window.addEventListener("pagehide", keepDraft);

    var stored = null;
    try {
      stored = local && JSON.parse(local.getItem(draftKey) || "null");
    } catch (e) {
      stored = null;
    }
    var banner = byId("draft-restore");
    if (stored && banner && differs(stored, loaded)) {
      byId("draft-restore-text").textContent =
        "Restore unsaved changes from " + new Date(stored.savedAt).toLocaleString() + "?";
      banner.hidden = false;
      byId("draft-restore-yes").addEventListener("click", function () {
        Object.keys(fields).forEach(function (k) {
          if (fields[k] && typeof stored[k] === "string") fields[k].value = stored[k];
        });
        banner.hidden = true;
        refresh();
        body.focus();
      });
      byId("draft-restore-no").addEventListener("click", function () {
        local.removeItem(draftKey);
        banner.hidden = true;
      });
    }

    form.addEventListener("submit", function (event) {
      keepDraft();
      var button = event.submitter;
      // Buttons with their own formaction (share, duplicate) do not save the post.
      if (session && !(button && button.hasAttribute("formaction"))) {
        session.setItem(SAVING, config.dataset.draftKey);
      }
    });

    // --- Who else has this post open --------------------------------------------------
    var presenceUrl = config.dataset.presenceUrl;
    var presence = byId("presence");
    if (presenceUrl && presence) {
      var ping = function () {
        post(presenceUrl, form, {}).then(function (data) {
          byId("presence-names").textContent = data.others.join(", ");
          presence.hidden = data.others.length === 0;
        }).catch(function () { /* offline for a moment: try again next time */ });
      };
      setInterval(ping, PRESENCE_EVERY);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
