/*! sitehook snippet: evaluates the site's triggers in the browser; nothing leaves the page until one matches for a known profile. */
(function () {
  "use strict";
  var w = window, d = document, c = w.console, nav = w.navigator;
  function say(how, text) { if (c && c[how]) c[how]("sitehook: " + text); }
  // Two script tags (a theme plus a tag manager, say) must not evaluate twice.
  if (w.__sitehookLoaded) {
    say("warn", "the script is included twice; the second copy does nothing");
    return;
  }
  w.__sitehookLoaded = true;
  var s = d.currentScript;
  var base = s && s.src ? s.src.replace(/[?#].*$/, "").replace(/[^\/]*$/, "") : location.origin + "/";

  // The page API. Calls made before the wasm is ready (through the queue stub
  // `window.sitehook = window.sitehook || []; sitehook.push([...])`, or through these
  // methods) are kept, in order, and replayed once it is.
  var early = w.sitehook, queue = [], snip = null, off = false, moving = false, full = false;
  function call(args) {
    args = Array.prototype.slice.call(args || []);
    if (off) return;
    // While a navigation waits to be counted, calls wait too: a single-page app's
    // `sitehook.page(...)` right after `pushState` belongs to the new page.
    if (!snip || moving) {
      if (queue.length < 100) queue.push(args);
      else if (!full) { full = true; say("warn", "more than 100 calls waiting for the snippet; the rest are ignored"); }
      return;
    }
    run(function () { snip.command(String(args[0]), args[1], args[2]); });
  }
  var api = { push: function (args) { call(args); } };
  ["identify", "page", "track", "consent", "reset"].forEach(function (name) {
    api[name] = function (a, b) { call([name, a, b]); };
  });
  if (early && typeof early.length === "number") for (var i = 0; i < early.length; i++) call(early[i]);
  w.sitehook = api;

  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    off = true;
    say("info", "WebAssembly is unavailable in this browser; triggers are off on this page");
    return;
  }

  // Every call into the wasm goes through here: a bug in it traps, and then the
  // snippet stops for this page instead of breaking it.
  var busy = false, timer = 0;
  function run(f) {
    if (!snip) return;
    try { f(); } catch (e) {
      snip = null; off = true;
      say("warn", "stopped by an internal error (" + ((e && e.message) || e) + "); triggers are off on this page");
      return;
    }
    flush();
    schedule();
  }
  // One request at a time; the wasm keeps what is not acknowledged in its outbox.
  function flush() {
    if (busy || !snip) return;
    var body = snip.batch(false);
    if (!body) return;
    busy = true;
    function done(status, text) { busy = false; run(function () { snip.answer(status, text); }); }
    fetch(snip.url(), {
      method: "POST", body: body, keepalive: body.length < 60000,
      headers: { "content-type": "text/plain;charset=UTF-8" }
    }).then(function (r) {
      return r.text().then(function (t) { done(r.status, t); }, function () { done(r.status, ""); });
    }, function (e) { done(0, String((e && e.message) || e)); });
  }
  // Timed conditions (dwell, a sequence's wait) and retries ask to be woken.
  function schedule() {
    clearTimeout(timer);
    var ms = snip ? snip.next_wake() : -1;
    if (ms >= 0) timer = setTimeout(function () { run(function () { snip.wake(); }); }, Math.min(ms + 20, 2147483647));
  }
  // Leaving the page: what still waits (a retry's backoff) goes by sendBeacon. It
  // stays queued, and the relay drops the duplicate if a later page sends it again.
  function hide() {
    if (!snip || !nav.sendBeacon) return;
    var body;
    try { body = snip.batch(true); } catch (e) { return; }
    if (body) nav.sendBeacon(snip.url(), new Blob([body], { type: "text/plain;charset=UTF-8" }));
  }
  w.addEventListener("pagehide", hide);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") hide(); });
  // Single-page apps: every history change may be a new page; the wasm counts a view
  // only when the URL really changed. Deferred a tick, so the app can set the title.
  function navigated() {
    if (moving) return;
    moving = true;
    setTimeout(function () {
      moving = false;
      run(function () { snip.navigate(); });
      var calls = queue;
      queue = [];
      calls.forEach(call);
    }, 0);
  }
  ["pushState", "replaceState"].forEach(function (m) {
    var original = w.history && w.history[m];
    if (typeof original === "function") w.history[m] = function () {
      var result = original.apply(this, arguments);
      navigated();
      return result;
    };
  });
  w.addEventListener("popstate", navigated);
  w.addEventListener("hashchange", navigated);

  // The trace panel is a separate script, fetched only when the config (or an allowed
  // ?sitehook_debug=1) turns debugging on: visitors never download it.
  w.addEventListener("sitehook:evaluated", function (e) {
    if (e.detail && e.detail.debug && !w.__sitehookDebug) {
      w.__sitehookDebug = 1;
      var p = d.createElement("script");
      p.src = base + "sitehook-debug.js";
      p.async = true;
      (d.head || d.documentElement).appendChild(p);
    }
  });
  // wasm-bindgen's glue, written in by `cargo xtask dist`: one instance per wasm
  // started. It is the explaining build's glue, which serves both builds.
  function glue() {
/*@GLUE@*/
    return wasm_bindgen;
  }
  // The wasm files and their hashes, written in by `cargo xtask dist`: a page that
  // pins this script with `integrity` gets exactly the wasm built with it.
  // sitehook_bg.wasm is the visitor build, which has no words: given a config with a
  // problem, or asked to debug, it declines, and the explaining build
  // (sitehook-debug.wasm) starts in its place to say what is wrong or why.
  var VISITOR = "sitehook_bg.wasm", hashes = {};
  hashes[VISITOR] = "@WASM_SRI@";
  hashes["sitehook-debug.wasm"] = "@DEBUG_WASM_SRI@";
  function boot(file) {
    var hash = hashes[file], g = glue();
    g({
      module_or_path: fetch(base + file, hash.indexOf("sha384-") === 0 ? { integrity: hash } : {})
    }).then(function () {
      try { snip = g.Snippet.start(base) || null; } catch (e) {
        off = true;
        say("warn", "stopped by an internal error (" + ((e && e.message) || e) + "); triggers are off on this page");
        return;
      }
      if (!snip) {
        if (file === VISITOR && g.wants_words()) boot("sitehook-debug.wasm");
        else off = true;
        return;
      }
      // Who the visitor is and what the page is come first, then the page view, then
      // the events the page tracked while the wasm was loading.
      // This first page view covers the current URL, whatever navigation the app
      // made while the wasm loaded.
      var calls = queue, later = [];
      queue = [];
      moving = false;
      calls.forEach(function (args) {
        if (args[0] === "track") later.push(args); else call(args);
      });
      run(function () { snip.navigate(); });
      later.forEach(call);
    }, function (e) {
      off = true;
      var why = (e && e.message) || e;
      if (file !== VISITOR) say("warn", "could not load " + file + " (" + why + "), the explaining build this page " +
        "needs because its config has a problem or debugging is on: serve it beside sitehook.js; triggers are off on this page");
      else say("info", "could not start (" + why + "). A Content-Security-Policy needs " +
        "script-src 'wasm-unsafe-eval' and connect-src for the relay; triggers are off on this page");
    });
  }
  boot(VISITOR);
})();
