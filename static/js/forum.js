// Small progressive enhancements; every page works without this file.
// Texts come translated from the page: <body data-i18n-…> (templates/base.html).
function t(key, fallback) {
  "use strict";
  var value = document.body && document.body.dataset["i18n" + key.charAt(0).toUpperCase() + key.slice(1)];
  return value || fallback;
}
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
        var text = t("draftRestored", "Ihr Entwurf wurde wiederhergestellt.");
        var note = document.createElement("p");
        note.className = "draft-note";
        note.textContent = text;
        form.insertBefore(note, form.firstChild);
        // Announce through the page's live region: a status element that already holds its
        // text when the page loads is not read out.
        var live = document.getElementById("live-region");
        if (live) setTimeout(function () { live.textContent = text; }, 500);
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

// Suggestions while typing: @mentions in the composer and existing tags in the tag field.
// A listbox below the field; arrow keys move, Enter or Tab takes, Escape closes. Without
// JavaScript the fields still work (the tag field has a <datalist>).
(function () {
  "use strict";
  var counter = 0;

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function attach(field, options) {
    counter += 1;
    var listId = "suggest-" + counter;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", options.label);
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "kern-sr-only";
    status.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    field.setAttribute("aria-controls", listId);
    field.setAttribute("aria-autocomplete", "list");
    // A text input becomes an ARIA combobox; a textarea may not take that role, there the
    // live status line announces the suggestions.
    var isCombobox = field.tagName === "INPUT";
    if (isCombobox) {
      field.setAttribute("role", "combobox");
      field.setAttribute("aria-expanded", "false");
    }
    var items = [];
    var active = -1;

    function close() {
      if (isCombobox) field.setAttribute("aria-expanded", "false");
      list.hidden = true;
      list.innerHTML = "";
      items = [];
      active = -1;
      field.removeAttribute("aria-activedescendant");
    }
    function highlight(index) {
      active = index;
      items.forEach(function (item, i) { item.el.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (index >= 0) field.setAttribute("aria-activedescendant", items[index].el.id);
    }
    function choose(index) {
      if (index < 0 || index >= items.length) return;
      options.insert(items[index].value);
      close();
      field.focus();
    }
    var lookup = debounce(function () {
      var query = options.query();
      if (!query) { close(); return; }
      fetch(options.url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          close();
          var values = data ? options.values(data) : [];
          if (!values.length) return;
          values.forEach(function (entry, i) {
            var li = document.createElement("li");
            li.id = listId + "-" + i;
            li.setAttribute("role", "option");
            li.textContent = entry.text;
            li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
            list.appendChild(li);
            items.push({ el: li, value: entry.value });
          });
          list.hidden = false;
          if (isCombobox) field.setAttribute("aria-expanded", "true");
          highlight(0);
          status.textContent = values.length + " " + (values.length === 1 ? t("suggestion", "Vorschlag") : t("suggestions", "Vorschläge"));
        })
        .catch(close);
    }, 200);

    field.addEventListener("input", lookup);
    field.addEventListener("blur", function () { setTimeout(close, 100); });
    field.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % items.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active - 1 + items.length) % items.length); }
      else if (event.key === "Enter" || event.key === "Tab") { if (active >= 0) { event.preventDefault(); choose(active); } }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
  }

  document.querySelectorAll("textarea[data-composer]").forEach(function (textarea) {
    var mentionAt = function () {
      var before = textarea.value.slice(0, textarea.selectionStart);
      var match = /(^|[\s(>])@([A-Za-z0-9_-]{1,30})$/.exec(before);
      return match ? { start: before.length - match[2].length, text: match[2] } : null;
    };
    attach(textarea, {
      label: t("mentionLabel", "Personen erwähnen"),
      url: "/u/vorschlaege/",
      query: function () { var m = mentionAt(); return m ? m.text : ""; },
      values: function (data) {
        return (data.members || []).map(function (m) {
          return { value: m.handle, text: "@" + m.handle + " – " + m.name + (m.organisation ? " · " + m.organisation : "") };
        });
      },
      insert: function (handle) {
        var m = mentionAt();
        if (!m) return;
        var end = textarea.selectionStart;
        textarea.value = textarea.value.slice(0, m.start) + handle + " " + textarea.value.slice(end);
        var caret = m.start + handle.length + 1;
        textarea.setSelectionRange(caret, caret);
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      },
    });
  });

  document.querySelectorAll("input[data-tag-input]").forEach(function (input) {
    input.removeAttribute("list");  // our listbox replaces the datalist
    var current = function () { var parts = input.value.split(","); return parts[parts.length - 1].trim(); };
    attach(input, {
      label: t("tagLabel", "Schlagwort-Vorschläge"),
      url: "/tags/vorschlaege/",
      query: current,
      values: function (data) { return (data.tags || []).map(function (t) { return { value: t, text: t }; }); },
      insert: function (tag) {
        var parts = input.value.split(",");
        parts[parts.length - 1] = " " + tag;
        input.value = parts.join(",").replace(/^\s+/, "") + ", ";
      },
    });
  });
})();

// Similar threads while a new title is typed: the server renders the same fragment it shows
// without JavaScript (after "Vorschau"); here it follows the title as it changes.
(function () {
  "use strict";
  var slot = document.querySelector("[data-similar-url]");
  if (!slot) return;
  var field = document.getElementById(slot.getAttribute("data-similar-for"));
  if (!field) return;
  var url = slot.getAttribute("data-similar-url");
  var status = document.getElementById("similar-threads-status");
  var timer = null;
  var controller = null;
  var last = field.value.trim();

  function load() {
    var title = field.value.trim();
    if (title === last) return;
    last = title;
    if (controller) controller.abort();
    if (title.length < 8) {
      slot.innerHTML = "";
      return;
    }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    fetch(url + "?titel=" + encodeURIComponent(title), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (field.value.trim() !== title) return;
        slot.innerHTML = html;
        // The list itself is not a live region (it would be read out after every pause);
        // a short count is announced instead.
        var box = slot.querySelector("[data-announce]");
        if (status) status.textContent = box ? box.getAttribute("data-announce") : "";
      })
      .catch(function () { /* offline or aborted: keep what is shown */ });
  }

  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 450);
  });
})();

// "Drucken oder als PDF speichern" on the collection reader.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) window.print();
});

// Old links to posts that a moderator moved (split off or merged) lead to where they are now.
(function () {
  "use strict";
  var data = document.getElementById("moved-posts");
  var match = /^#post-(\d+)$/.exec(window.location.hash);
  if (!data || !match) return;
  var moved = JSON.parse(data.textContent);
  var url = moved.map[match[1]];
  if (url && (moved.always || !document.getElementById("post-" + match[1]))) {
    window.location.replace(url);
  }
})();
