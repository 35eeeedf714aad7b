// The relay's inspector: lists events and their deliveries, shows one in full, and
// replays dead letters. Plain DOM, no dependencies, no inline code (the page is served
// with a strict Content-Security-Policy), and every value is set as text, never as
// markup: event data comes from visitors' browsers.
(function () {
  "use strict";
  var TOKEN_KEY = "sitehook-admin-token";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("filters");
  var selected = null;
  var timer = null;

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  // Calls the admin API; resolves with the JSON body, rejects with a readable reason.
  function api(method, path) {
    var headers = {};
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(path, { method: method, headers: headers, credentials: "same-origin" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) return body;
        var why = body.error || ("the relay answered " + r.status);
        if (r.status === 403 && /admin_token/.test(why)) $("token").hidden = false;
        throw new Error(why);
      });
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function time(ms) {
    if (!ms) return "";
    var d = new Date(ms);
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }

  function say(text, bad) {
    var m = $("message");
    m.textContent = text || "";
    m.className = "message" + (bad ? " bad" : "");
    m.hidden = !text;
  }

  function filters() {
    var q = new URLSearchParams();
    ["webhook", "status", "profile"].forEach(function (k) {
      var v = form.elements[k].value.trim();
      // Until the first answer lists the webhooks, the select cannot hold the one the
      // URL asks for.
      if (!v && k === "webhook" && form.elements.webhook.options.length === 1) {
        v = new URLSearchParams(location.search).get("webhook") || "";
      }
      if (v) q.set(k, v);
    });
    return q;
  }

  function statusCell(status) {
    var td = el("td");
    td.appendChild(el("span", status, "status status-" + status));
    return td;
  }

  function renderList(body) {
    var select = form.elements.webhook;
    var chosen = select.value || new URLSearchParams(location.search).get("webhook") || "";
    while (select.options.length > 1) select.remove(1);
    body.webhooks.forEach(function (w) { select.add(new Option(w, w)); });
    select.value = chosen;

    var paused = $("paused");
    paused.textContent = "";
    body.paused.forEach(function (p) {
      var card = el("section", null, "card warn");
      card.appendChild(el("strong", "Webhook " + p.webhook + " is paused: "));
      card.appendChild(document.createTextNode(p.reason + " "));
      var b = el("button", "Resume deliveries");
      b.type = "button";
      b.dataset.webhook = p.webhook;
      b.addEventListener("click", function () {
        api("POST", "api/webhooks/" + encodeURIComponent(p.webhook) + "/enable").then(function () {
          say("Deliveries to " + p.webhook + " resume.");
          load();
        }, function (e) { say(e.message, true); });
      });
      card.appendChild(b);
      paused.appendChild(card);
    });

    var tbody = $("events").tBodies[0];
    tbody.textContent = "";
    body.events.forEach(function (e) {
      var tr = el("tr");
      tr.dataset.id = e.id;
      tr.tabIndex = 0;
      if (e.id === selected) tr.className = "selected";
      tr.appendChild(el("td", time(e.receivedAt)));
      tr.appendChild(el("td", e.trigger));
      tr.appendChild(el("td", e.webhook));
      tr.appendChild(el("td", e.profileid || "(anonymous)"));
      tr.appendChild(statusCell(e.status));
      tr.appendChild(el("td", e.attempts, "num"));
      tr.appendChild(el("td", e.lastError || (e.lastStatus ? "HTTP " + e.lastStatus : ""), "error"));
      var open = function () { show(e.id); };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", function (k) { if (k.key === "Enter") open(); });
      tbody.appendChild(tr);
    });
    $("count").textContent = "(" + body.events.length + ")";
    $("empty").hidden = body.events.length > 0;
  }

  function load() {
    return api("GET", "api/events?" + filters()).then(function (body) {
      $("token").hidden = true;
      renderList(body);
      document.body.dataset.loaded = "true";
    }, function (e) { say(e.message, true); });
  }

  function show(id) {
    selected = id;
    history.replaceState(null, "", location.pathname + location.search + "#event=" + encodeURIComponent(id));
    Array.prototype.forEach.call($("events").tBodies[0].rows, function (tr) {
      tr.className = tr.dataset.id === id ? "selected" : "";
    });
    return api("GET", "api/events/" + encodeURIComponent(id)).then(function (d) {
      var e = d.event;
      $("detail").hidden = false;
      $("detail-id").textContent = e.id;
      var s = $("detail-summary");
      s.textContent = "";
      s.appendChild(document.createTextNode("Trigger " + e.trigger + " → webhook " + e.webhook + " for " +
        (e.profileid || "an anonymous visitor") + ", received " + time(e.receivedAt) + ". Status "));
      s.appendChild(el("span", e.status, "status status-" + e.status));
      if (e.nextAt) s.appendChild(document.createTextNode(", next attempt " + time(e.nextAt)));
      s.appendChild(document.createTextNode("."));
      $("replay").hidden = e.status !== "failed";
      $("replay").dataset.id = e.id;
      var tbody = $("attempts").tBodies[0];
      tbody.textContent = "";
      d.attempts.forEach(function (a) {
        var tr = el("tr");
        tr.appendChild(el("td", time(a.at)));
        tr.appendChild(el("td", a.durationMs + " ms", "num"));
        tr.appendChild(el("td", a.status === null ? "-" : a.status));
        tr.appendChild(el("td", a.then));
        tr.appendChild(el("td", a.error || "", "error"));
        tbody.appendChild(tr);
      });
      if (!d.attempts.length) {
        var tr = el("tr");
        var td = el("td", "No attempt yet.", "hint");
        td.colSpan = 5;
        tr.appendChild(td);
        tbody.appendChild(tr);
      }
      $("request-note").textContent = d.requestNote;
      $("request").textContent = d.request || "";
      $("request").hidden = !d.request;
      $("page").textContent = JSON.stringify(d.page, null, 2);
    }, function (e) { say(e.message, true); });
  }

  $("replay").addEventListener("click", function () {
    var id = this.dataset.id;
    api("POST", "api/events/" + encodeURIComponent(id) + "/replay").then(function () {
      say("Event " + id + " is queued again with a fresh set of attempts.");
      return load().then(function () { return show(id); });
    }, function (e) { say(e.message, true); });
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = filters().toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : ""));
    $("detail").hidden = true;
    selected = null;
    say("");
    load();
  });
  form.elements.status.addEventListener("change", function () { form.requestSubmit(); });
  form.elements.webhook.addEventListener("change", function () { form.requestSubmit(); });

  $("token-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, this.elements.token.value); } catch (e) { /* private mode */ }
    say("");
    load();
  });

  function live() {
    clearInterval(timer);
    if ($("live").checked) timer = setInterval(function () {
      load().then(function () { if (selected && !$("detail").hidden) show(selected); });
    }, 5000);
  }
  $("live").addEventListener("change", live);

  var start = new URLSearchParams(location.search);
  ["webhook", "status", "profile"].forEach(function (k) {
    if (start.get(k)) form.elements[k].value = start.get(k);
  });
  var deep = /^#event=(.+)$/.exec(location.hash);
  load().then(function () { if (deep) show(decodeURIComponent(deep[1])); });
  live();
})();
