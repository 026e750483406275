// Live notifications and thread updates.
//
// The database is the truth; the socket is a fast path. On every (re)connect the client asks
// the catch-up endpoint what changed since the last cursor it saw, so nothing sent while it was
// away is lost. Where WebSockets are blocked (office proxies), or the socket keeps failing, it
// polls the same endpoint. Visitors without an account poll a public thread's post count.
(function () {
  "use strict";
  var body = document.body;
  var i18n = function (key, fallback) { return body.getAttribute("data-i18n-" + key) || fallback; };
  var liveRegion = document.getElementById("live-region");
  var bellCount = document.querySelector("[data-bell-count]");
  var bellText = document.querySelector("[data-bell-sr]");
  var threadBar = document.querySelector("[data-live-thread]");
  var socketPath = body.getAttribute("data-live-socket");
  var catchUpUrl = body.getAttribute("data-live-catch-up");

  // Tests may shorten the intervals (window.FORUM_LIVE_POLL_MS set by an init script).
  var POLL_MS = window.FORUM_LIVE_POLL_MS || 20000;
  var VISITOR_POLL_MS = window.FORUM_LIVE_POLL_MS || 30000;
  var cursor = null;
  var seen = {};  // "id@updated" of notifications already shown: catch-ups overlap on purpose
  var socket = null;
  var attempts = 0;
  var pollTimer = null;
  var reconnectTimer = null;
  var knownLast = threadBar ? parseInt(threadBar.getAttribute("data-last"), 10) || 0 : 0;
  var latestSeen = knownLast;

  function announce(text) {
    if (!liveRegion || !text) return;
    liveRegion.textContent = "";
    // A fresh text node after a tick makes screen readers announce repeated messages too.
    setTimeout(function () { liveRegion.textContent = text; }, 50);
  }

  function setUnread(n) {
    if (!bellCount) return;
    bellCount.textContent = String(n);
    bellCount.hidden = !n;
    if (bellText) {
      bellText.textContent = !n ? "" : n === 1 ? i18n("unread-one", ", 1 ungelesene Benachrichtigung")
        : i18n("unread", ", {n} ungelesene Benachrichtigungen").replace("{n}", n);
    }
  }

  // --- Thread page: "N neue Beiträge" ------------------------------------------------------
  function showNewPosts(last) {
    if (!threadBar || !(last > knownLast)) return;
    latestSeen = Math.max(latestSeen, last);
    var n = latestSeen - knownLast;
    var label = n === 1 ? i18n("new-post", "1 neuer Beitrag") : i18n("new-posts", "{n} neue Beiträge").replace("{n}", n);
    threadBar.querySelector("[data-live-label]").textContent = label;
    threadBar.hidden = false;
  }

  function loadNewPosts() {
    var lastPage = threadBar.getAttribute("data-last-page-url");
    if (lastPage) { window.location.href = lastPage + "#post-" + (knownLast + 1); return; }
    var url = threadBar.getAttribute("data-new-url") + "?nach=" + knownLast;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var target = document.querySelector("[data-live-insert]");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var first = null;
        while (holder.firstElementChild) {
          var el = holder.firstElementChild;
          if (!first && el.tagName === "ARTICLE") first = el;
          target.parentNode.insertBefore(el, target);
        }
        var articles = document.querySelectorAll("article.post[id^='post-']");
        if (articles.length) {
          var id = articles[articles.length - 1].id.replace("post-", "");
          knownLast = Math.max(knownLast, parseInt(id, 10) || knownLast);
        }
        latestSeen = Math.max(latestSeen, knownLast);
        threadBar.hidden = true;
        var heading = document.getElementById("replies-heading");
        if (heading) {
          var replies = Math.max(knownLast - 1, 0);
          heading.textContent = replies === 1 ? i18n("replies-one", "1 Antwort") : i18n("replies", "{n} Antworten").replace("{n}", replies);
        }
        announce(i18n("posts-loaded", "Neue Beiträge wurden unten eingefügt."));
        if (first) {
          first.setAttribute("tabindex", "-1");
          first.focus();
        }
      })
      .catch(function () { window.location.reload(); });
  }

  if (threadBar) {
    threadBar.querySelector("[data-live-load]").addEventListener("click", loadNewPosts);
  }

  function pollThread() {
    if (!threadBar) return;
    var url = threadBar.getAttribute("data-new-url") + "?format=anzahl&nach=" + knownLast;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) showNewPosts(data.last); })
      .catch(function () {});
  }

  // --- Notifications: catch-up, socket, polling -------------------------------------------
  function catchUp() {
    if (!catchUpUrl) return Promise.resolve();
    var url = catchUpUrl + (cursor ? "?seit=" + encodeURIComponent(cursor) : "");
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var fresh = cursor !== null;
        cursor = data.cursor;
        setUnread(data.unread);
        var unseen = data.items.filter(function (item) {
          var key = item.id + "@" + item.updated;
          var known = seen[key];
          seen[key] = true;
          return !known && !item.read;
        });
        if (fresh && unseen.length) announce(unseen.map(function (item) { return item.text; }).join(". "));
      })
      .catch(function () {});
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(function () { catchUp(); pollThread(); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function subscribeThread() {
    if (socket && socket.readyState === 1 && threadBar) {
      socket.send(JSON.stringify({ type: "subscribe", thread: parseInt(threadBar.getAttribute("data-live-thread"), 10) }));
    }
  }

  function connect() {
    if (!socketPath || typeof WebSocket !== "function") { startPolling(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + socketPath);
    } catch (e) {
      // Refused before it started (a proxy or policy): poll, and try again later.
      socket = null;
      attempts += 1;
      startPolling();
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, attempts)));
      return;
    }
    socket.onopen = function () {
      attempts = 0;
      stopPolling();
      subscribeThread();
      catchUp();  // whatever happened while the socket was down
      pollThread();
    };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "notification") {
        setUnread(data.payload.unread);
        var key = data.payload.id + "@" + data.payload.updated;
        if (!seen[key]) announce(data.payload.text);
        seen[key] = true;
      } else if (data.type === "notifications.read") {
        setUnread(data.payload.unread);
      } else if (data.type === "post.created") {
        showNewPosts(data.payload.number);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4401) { startPolling(); return; }  // signed out: the endpoint says so
      attempts += 1;
      // 4503: the server's live channel is down (Redis restarting): poll at once, retry later.
      if (event.code === 4503) attempts = Math.max(attempts, 3);
      // After a few failures the network probably blocks sockets: poll meanwhile, keep trying.
      if (attempts >= 3) startPolling();
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, delay);
    };
  }

  // Keep-alive: proxies close idle sockets after a minute or so.
  setInterval(function () {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
  }, 25000);

  // When the tab comes back from the background, catch up at once.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { catchUp(); pollThread(); }
  });

  // For tests and diagnostics: drop the socket as a flaky proxy would.
  window.forumLive = {
    drop: function () { if (socket) socket.close(); },
    state: function () { return { socket: socket ? socket.readyState : null, polling: !!pollTimer, cursor: cursor }; }
  };

  if (socketPath) {
    catchUp().then(connect);
  } else if (threadBar) {
    setInterval(pollThread, VISITOR_POLL_MS);  // visitors: public threads by polling
  }
})();
