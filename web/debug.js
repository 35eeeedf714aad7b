/*! sitehook trace panel: loaded by the snippet only when debugging is on. */
// Lists the page's evaluations (page views and events, newest first) and shows, for the
// one picked, every trigger with what it decided and why, and what was sent.
// It reads `window.sitehook.last` and the `sitehook:evaluated` events. No inline script
// or style attribute: styles are set through the CSSOM (`element.style`), which a
// strict Content-Security-Policy allows, inside a shadow root so the site's CSS and
// the panel's do not touch.
(function () {
  "use strict";
  var w = window, doc = document;
  if (w.__sitehookPanel) return;
  w.__sitehookPanel = true;

  var COLORS = { fired: "#1a7f37", "no-match": "#6e7781", anonymous: "#9a6700", stopped: "#9a6700", "other-event": "#6e7781" };

  function el(tag, text, style) {
    var e = doc.createElement(tag);
    if (text != null) e.textContent = String(text);
    if (style) for (var k in style) e.style[k] = style[k];
    return e;
  }

  var host = el("div", null, { position: "fixed", right: "12px", bottom: "12px", zIndex: "2147483647" });
  host.id = "sitehook-debug";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var panel = el("section", null, {
    font: "12px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif", color: "#1d2433",
    background: "#fff", border: "1px solid #d0d7de", borderRadius: "8px",
    boxShadow: "0 4px 16px rgba(0,0,0,.15)", width: "360px", maxHeight: "60vh", overflow: "auto"
  });
  panel.setAttribute("role", "log");
  panel.setAttribute("aria-label", "sitehook trace");
  var head = el("header", null, {
    display: "flex", alignItems: "center", gap: "8px", padding: "6px 10px",
    background: "#1d2433", color: "#fff", position: "sticky", top: "0"
  });
  head.appendChild(el("strong", "sitehook trace"));
  var close = el("button", "×", {
    marginLeft: "auto", background: "transparent", color: "#fff", border: "0",
    font: "inherit", fontSize: "16px", cursor: "pointer", lineHeight: "1"
  });
  close.type = "button";
  close.title = "Hide (add ?sitehook_debug=0 to the URL to stop tracing)";
  close.addEventListener("click", function () { host.remove(); });
  head.appendChild(close);
  panel.appendChild(head);
  // The page's evaluations, newest first, as Tag Assistant lists a page's events:
  // the newest is shown until one is picked; picking the newest follows again.
  var events = el("ol", null, { listStyle: "none", margin: "0", padding: "4px 10px", borderBottom: "1px solid #d0d7de" });
  events.className = "events";
  panel.appendChild(events);
  var body = el("div", null, { padding: "6px 10px" });
  panel.appendChild(body);
  root.appendChild(panel);

  var KEEP = 25, traces = [], picked = null;

  function title(t) {
    return t.consent === false ? "consent withheld: nothing evaluated" : (t.event || "page_view") + " " + t.path;
  }

  function render() {
    events.textContent = "";
    var shown = picked || traces[traces.length - 1];
    for (var i = traces.length - 1; i >= 0; i--) {
      var t = traces[i], fired = (t.triggers || []).filter(function (r) { return r.result === "fired"; }).length;
      var item = el("button", title(t) + (fired ? " · " + fired + " fired" : ""), {
        display: "block", width: "100%", textAlign: "left", background: t === shown ? "#ddf4ff" : "transparent",
        border: "0", borderRadius: "4px", padding: "2px 4px", font: "inherit", color: "inherit", cursor: "pointer",
        fontWeight: t === shown ? "600" : "400"
      });
      item.type = "button";
      if (t === shown) item.setAttribute("aria-current", "true");
      item.addEventListener("click", (function (t) {
        return function () { picked = t === traces[traces.length - 1] ? null : t; render(); };
      })(t));
      var li = el("li");
      li.appendChild(item);
      events.appendChild(li);
    }
    show(shown);
  }

  function add(t) {
    if (!t || traces.indexOf(t) >= 0) return;
    traces.push(t);
    if (traces.length > KEEP) {
      if (picked === traces.shift()) picked = null;
    }
    render();
  }

  function show(t) {
    if (!t) return;
    body.textContent = "";
    body.appendChild(el("div", title(t), { fontWeight: "600", margin: "2px 0 6px" }));
    var list = el("ul", null, { listStyle: "none", margin: "0", padding: "0" });
    (t.triggers || []).forEach(function (r) {
      var li = el("li", null, { padding: "4px 0", borderTop: "1px solid #eaeef2" });
      li.dataset.trigger = r.id;
      li.dataset.result = r.result;
      li.appendChild(el("span", r.result, {
        display: "inline-block", minWidth: "74px", fontWeight: "600", color: COLORS[r.result] || "#1d2433"
      }));
      li.appendChild(el("code", r.id, { fontFamily: "ui-monospace, monospace" }));
      if (r.why) li.appendChild(el("div", r.why, { color: "#57606a", marginLeft: "74px" }));
      list.appendChild(li);
    });
    if (!list.children.length) list.appendChild(el("li", "no valid trigger listens to " + (t.event || "page_view"), { color: "#57606a" }));
    body.appendChild(list);
    var sent = t.sent || [];
    var foot = sent.length ? "sent " + sent.length + " event(s): " + sent.join(", ") : "nothing sent";
    if (t.error) foot = "not sent: " + t.error;
    var f = el("div", foot, { marginTop: "6px", color: t.error ? "#cf222e" : "#57606a", wordBreak: "break-all" });
    f.className = "sent";
    body.appendChild(f);
    body.appendChild(el("div", "evaluated in " + ((t.evalUs || 0) / 1000).toFixed(2) + " ms", { color: "#8c959f" }));
  }

  function mount() {
    (doc.body || doc.documentElement).appendChild(host);
  }
  // What was evaluated before this script loaded (the loader keeps the last 25 while
  // debugging), then each evaluation as it is published.
  (w.__sitehookTraces || [w.sitehook && w.sitehook.last]).forEach(add);
  w.addEventListener("sitehook:evaluated", function (e) { add(e.detail); });
  if (doc.body) mount(); else doc.addEventListener("DOMContentLoaded", mount);
})();
