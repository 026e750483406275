// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Close the user menu with Escape and when a click lands outside it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  // Composer drafts survive a reload: kept in this browser until the post is sent.
  var DRAFT_PREFIX = "forum-draft:";
  document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
    var key = DRAFT_PREFIX + form.getAttribute("data-draft-key");
    var fields = form.querySelectorAll("textarea, input[type=text], input:not([type])");
    var stored = null;
    try { stored = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { stored = null; }
    if (stored && typeof stored === "object") {
      var restored = false;
      fields.forEach(function (field) {
        if (field.name && stored[field.name] && !field.value) { field.value = stored[field.name]; restored = true; }
      });
      if (restored) {
        var note = document.createElement("p");
        note.className = "draft-note";
        note.setAttribute("role", "status");
        note.textContent = form.getAttribute("data-draft-restored") || "Ihr Entwurf wurde wiederhergestellt.";
        form.insertBefore(note, form.firstChild);
      }
    }
    var save = function () {
      var data = {};
      fields.forEach(function (field) { if (field.name && field.value) data[field.name] = field.value; });
      try { window.localStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full or blocked */ }
    };
    form.addEventListener("input", save);
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "preview") return;
      // Forget the draft once the server has the text; a failed submit re-renders it anyway.
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
    });
  });

  // "Absenden" twice sends once (the server also refuses duplicates by token).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || !submitter.hasAttribute("data-submit-once")) return;
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      submitter.setAttribute("aria-disabled", "true");
    });
  });

  // Show the profile and event fields only for the kind that uses them.
  var kindInputs = document.querySelectorAll("input[name=kind]");
  var toggleKindSections = function () {
    var checked = document.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    document.querySelectorAll("[data-kind-only]").forEach(function (section) {
      section.hidden = section.getAttribute("data-kind-only") !== kind;
    });
  };
  if (kindInputs.length) {
    kindInputs.forEach(function (input) { input.addEventListener("change", toggleKindSections); });
    toggleKindSections();
  }
})();
