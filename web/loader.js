/*! sitehook snippet: evaluates the site's triggers in the browser; nothing leaves the page until one matches for a known profile. */
(function () {
  "use strict";
  var w = window, d = document, c = w.console, nav = w.navigator;
  // A console line; a page's console that is not one (replaced, or throwing) is not
  // our error.
  function print(how, text) { try { c[how](text); } catch (e) {} }
  function say(how, text) { print(how, "sitehook: " + text); }
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
  // `counted`: the key of the page whose view was counted last.
  var early = w.sitehook, queue = [], snip = null, off = false, moving = false, full = false, counted;
  function call(args) {
    var key = args && args.key;
    args = Array.prototype.slice.call(args || []);
    if (off) return;
    // A navigation we have not heard of yet: a router's `popstate` or `hashchange`
    // listener that ran before ours (listeners run in the order they were added,
    // and this script loads late). Counted first, as below.
    if (snip && !moving && pageKey() !== counted) navigated();
    // While a navigation waits to be counted, calls wait too: a single-page app's
    // `sitehook.page(...)` right after `pushState` belongs to the new page.
    if (!snip || moving) {
      // With the page it was made on (kept when a navigation queues it again): see
      // `boot`.
      args.key = key || pageKey();
      if (queue.length < 100) queue.push(args);
      else if (!full) { full = true; say("warn", "more than 100 calls waiting for the snippet; the rest are ignored"); }
      return;
    }
    run(function () { command(String(args[0]), args[1], args[2]); });
  }
  // A page API call, checked here (the API is the loader's); what it does to the
  // visitor is the wasm's (op 2: [name, a, b, the item's fields]).
  function command(name, a, b) {
    // The arguments as plain data, read once with the bounds of `json`.
    var x = JSON.parse(json([a, b])) || [], item = null;
    a = x[0];
    b = x[1];
    if (name == "track") {
      if (typeof a != "string" || !/^[\w.:-]{1,64}$/.test(a))
        return say("warn", "sitehook.track needs an event name of 1 to 64 letters, digits and - _ . :");
      if (/^(page|item|category)_view$/.test(a))
        return say("warn", 'sitehook.track("' + a + '") is ignored: page views are seen by the snippet, and item and category views are declared with sitehook.page');
      // Some properties are also the item's fields.
      item = [["id", "itemId", "item_id"], ["name"], ["category"], ["value", "price", "total"]].map(function (keys) {
        return text([b], keys);
      });
    } else if (name == "page") {
      var type = a && a.type;
      if (type != "item" && type != "product" && type != "category")
        return say("warn", 'sitehook.page needs { type: "item" | "category", item: { id, name, category, price } }');
      // Each field from `item`, or from the argument itself.
      item = ["id", "name", "category", "price"].map(function (key) { return text([a.item, a], [key]); });
      a = type == "category" ? "category_view" : "item_view";
      b = null;
    } else if (name == "consent") {
      // Withdrawing deletes data: only an explicit false may do that.
      if (typeof a != "boolean") return say("warn", "sitehook.consent needs true or false; ignored");
    } else if (name != "identify" && name != "reset") {
      return say("warn", 'unknown command "' + name + '" (expected identify, page, track, consent or reset)');
    }
    wasm(2, [name, a, b, item]);
  }
  // The first of `keys` found in the first of `objects` that has it, as text: strings,
  // booleans and numbers as JavaScript writes them (as the wasm reads any field).
  function text(objects, keys) {
    for (var i = 0; i < objects.length; i++) for (var j = 0; j < keys.length; j++) {
      var o = objects[i], v = o && typeof o == "object" ? o[keys[j]] : null, t = typeof v;
      if (t == "string" || t == "boolean" || t == "number" && Math.abs(v) < 9e15) return String(v);
    }
    return "";
  }
  // The page's data as JSON text for the wasm, read as untrusted: at most 48 levels
  // deep, 50,000 values, 2,000 items or keys per object and 64 KB per string; what is
  // past a bound, a function, or behind a getter that throws reads as null. So a
  // cycle or a hostile config cannot hang the page or throw into it, and the core's
  // own limits (16 levels of conditions) give the clearer errors.
  function json(v) {
    var budget = 5e4;
    function walk(v, depth) {
      var t = typeof v;
      if (--budget < 0) return "null";
      if (t == "string") return v.length > 65536 ? "null" : JSON.stringify(v);
      if (t == "number" || t == "boolean") return JSON.stringify(v);
      if (!v || t != "object" || depth > 48) return "null";
      // A revoked Proxy throws even on Array.isArray: that value reads as null, not
      // the whole document.
      try {
        var arr = Array.isArray(v), keys = arr ? v : Object.keys(v), out = [];
        for (var i = 0; i < keys.length && i < 2000; i++) {
          var x;
          try { x = arr ? v[i] : v[keys[i]]; } catch (e) {}
          out.push((arr ? "" : JSON.stringify(keys[i]) + ":") + walk(x, depth + 1));
        }
        return arr ? "[" + out + "]" : "{" + out + "}";
      } catch (e) {
        return "null";
      }
    }
    return walk(v, 0);
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

  // The wasm's one entry point (crates/snippet/src/lib.rs `enter`): an operation
  // (0 start, 1 navigate, 2 page API call, 3 wake, 4 lift) and its arguments as JSON
  // text, after where the page is. It answers through io.out: [traces, when it wants
  // waking (ms since the epoch; 0: never), whether events may be sent]. `last`, JSON
  // text already made, ends the arguments as it is.
  var outs = [], wakeAt = 0, sendable = false;
  function wasm(op, rest, last) {
    var text = json([location.href, d.title, d.referrer, pageKey()].concat(rest || []));
    return snip.enter(op, last ? text.slice(0, -1) + "," + last + "]" : text);
  }
  // Every call into the wasm goes through here: a bug in it traps, and then the
  // snippet stops for this page instead of breaking it. Events that fired go into the
  // outbox, which is then sent; the outbox is read from storage once per call.
  // One call at a time: the page's code may call the API from inside a call (a
  // `sitehook:evaluated` listener that tracks an event); that call waits its turn.
  var busy = false, timer = 0, running = false, next = [], relay = "";
  function run(f) {
    if (!snip) return;
    if (running) { next.push(f); return; }
    running = true;
    var q, o;
    try {
      f();
      q = load();
      // What the calls answered, in order (a lift made while keeping the outbox
      // answers too).
      while ((o = outs.shift())) {
        o = JSON.parse(o);
        // A time, not a delay: a later run that does not call the wasm (the relay's
        // answer, a call the loader refused) must not postpone it.
        wakeAt = o[1];
        sendable = o[2];
        var fresh = [];
        o[0].forEach(function (t) {
          // A trace whose triggers fired: their events, which the outbox keeps as
          // the JSON text they are sent as; the trace waits for the relay's answer.
          if (t.fired) {
            t.ids = t.fired.map(function (k) {
              var e = event(t, k);
              fresh.push({ i: e.id, g: e.trigger, p: t.v.p, t: t.at, n: 0, a: 0, j: JSON.stringify(e) });
              return e.id;
            });
            delete t.fired;
            delete t.at;
            delete t.v;
          }
          // The traces first: one whose event the outbox drops at once is then told so.
          show(t);
        });
        if (fresh.length) q = add(q, fresh);
      }
      q = flush(q);
    } catch (e) {
      snip = null; off = true; next = [];
      say("warn", "stopped by an internal error (" + ((e && e.message) || e) + "); triggers are off on this page");
      return;
    } finally {
      running = false;
    }
    if (next.length) run(next.shift());
    else schedule(q);
  }

  // Which page this is, for counting views: two URLs are one page when they differ
  // only in an anchor (`#faq`; a hash route, `#/cart`, is a page of its own) or in
  // campaign parameters (utm_*, ad click ids), which sites remove with replaceState
  // right after landing. The other parameters stay as written, in their order.
  // (The pattern is inside the function: `call` needs the key for calls queued before
  // the script's later statements have run.)
  function pageKey() {
    var CAMPAIGN = /^(utm_.*|gclid|gbraid|wbraid|dclid|fbclid|msclkid|ttclid|twclid|li_fat_id|yclid|mc_cid|mc_eid)$/;
    var href = location.href, h = href.indexOf("#"), hash = h < 0 ? "" : href.slice(h);
    var base = h < 0 ? href : href.slice(0, h), q = base.indexOf("?"), kept = [];
    if (q >= 0) {
      base.slice(q + 1).split("&").forEach(function (p) {
        var name = p.split("=")[0];
        try { name = decodeURIComponent(name.replace(/\+/g, " ")); } catch (e) {}
        if (p && !CAMPAIGN.test(name)) kept.push(p);
      });
      base = base.slice(0, q);
    }
    return base + (kept.length ? "?" + kept.join("&") : "") + (/^#[\/!]/.test(hash) ? hash : "");
  }
  // The event of the trigger at position `k` of the config that fired in trace `t`:
  // the trigger's ids and static data from the config as the wasm read it, the
  // visitor's profile fields the webhook takes (all of them when the relay did not
  // say; it drops the rest anyway, and always needs profileid), the page and time the
  // wasm saw. The wasm decides; the outbox, which is the loader's, packs.
  var cfg = {}, fields = null;
  function event(t, k) {
    var g = cfg.triggers[k], v = t.v, take = fields && fields[g.webhook], p = {}, d = {}, x;
    for (x in v.profile) if (!Array.isArray(take) || x == "profileid" || take.indexOf(x) >= 0) p[x] = v.profile[x];
    for (x in g.data) d[x] = String(g.data[x]);
    var e = { id: uuid(), trigger: g.id, webhook: g.webhook, profile: p, data: d, page: v.page, at: t.at };
    if ("identity" in v) e.identity = v.identity;
    return e;
  }
  // A random (version 4) UUID: crypto.randomUUID exists only in secure contexts, and
  // sites still serve pages on http.
  function uuid() {
    var b = new Uint8Array(16), s = "", i;
    try { w.crypto.getRandomValues(b); } catch (e) { for (i = 0; i < 16; i++) b[i] = Math.random() * 256; }
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    for (i = 0; i < 16; i++) s += (i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
    return s;
  }
  // Each evaluation's trace, published as window.sitehook.last and as a
  // sitehook:evaluated event. One whose events fired (`ids`) waits for the relay's
  // answer, so that it shows what was sent.
  // While debugging, the last 25 are kept for the trace panel, which loads later.
  var waiting = [], traced = [];
  function show(t) {
    if (t.ids) { waiting.push(t); return; }
    if (t.debug) w.__sitehookTraces = traced = traced.concat([t]).slice(-25);
    // A page that froze window.sitehook keeps it as it is.
    try {
      var o = w.sitehook;
      if (!o || typeof o != "object") o = w.sitehook = {};
      o.last = t;
    } catch (e) {}
    w.dispatchEvent(new CustomEvent("sitehook:evaluated", { detail: t }));
  }
  // `sent` were answered (the relay accepted `accepted`; `error` says why not), or,
  // with `gone`, given up: a trace waits until none of its events is left waiting.
  function answered(sent, accepted, error, gone) {
    var done = [];
    waiting = waiting.filter(function (t) {
      var hit = t.ids.filter(function (i) { return sent.indexOf(i) >= 0; });
      if (!hit.length) return true;
      if (error) t.error = error;
      if (gone) {
        t.ids = t.ids.filter(function (i) { return hit.indexOf(i) < 0; });
        if (t.ids.length) return true;
      } else {
        t.sent = t.ids.filter(function (i) { return accepted.indexOf(i) >= 0; });
        if (t.debug) t.sent.forEach(function (i) { say("log", "sent event " + i + " to the relay"); });
      }
      delete t.ids;
      done.push(t);
    });
    // Published once `waiting` is settled: a listener may call the API.
    done.forEach(show);
  }

  // The outbox: matched events waiting for the relay. One for the browser (each event
  // carries its profile), in localStorage, so a later page sends what this one could
  // not. Each event has a key of its own (`sitehook:v1:outbox:` and its id), so tabs
  // that add and remove events at the same time keep each other's: rewriting one list
  // would lose what another tab wrote between our read and our write. Entries: i
  // (event id), g (trigger), p (profile), t (fired at), n (failed attempts), a (not
  // before), j (the event's JSON). Bounded to 50 events and 60 KB of their JSON; an
  // event is given up after 20 attempts or 3 days, inside the relay's 7-day
  // de-duplication window.
  // `held`: events storage refused to take (a full quota), kept by this page and
  // written at the next write that works; all of them, from the first read that
  // throws (`unreadable`: blocked, or the storage file corrupt or busy), since what
  // is written then could not be read back. (Without a prototype: ids come from
  // storage too.)
  var OUTBOX = "sitehook:v1:outbox:", OLD_OUTBOX = "sitehook:v1:outbox", MAX_AGE = 3 * 864e5, held = Object.create(null), unreadable = false, inFlight = [];
  function load() {
    var out = [], k;
    if (!unreadable) try {
      // The outbox of 0.1.0, one list under one key (read first, so that a storage
      // that cannot be read throws before there is an entry to lose): its events
      // are stored again each under a key of their own (or `held`, as any event).
      var v = store.getItem(OLD_OUTBOX), e;
      if (v) {
        store.removeItem(OLD_OUTBOX);
        try { JSON.parse(v).forEach(function (e) { if (e = entry(e)) save(e); }); } catch (x) {}
      }
      for (var i = store.length; i--;) {
        var key = store.key(i);
        if (!key || key.indexOf(OUTBOX)) continue;
        v = store.getItem(key);
        e = null;
        try { e = entry(JSON.parse(v)); } catch (x) {}
        if (e && OUTBOX + e.i == key) {
          if (!held[e.i]) out.push(e);
        } else store.removeItem(key);
      }
    } catch (x) {
      unreadable = true;
      out.forEach(function (e) { held[e.i] = e; });
      out = [];
    }
    for (k in held) out.push(held[k]);
    // The oldest first: the order they are sent and dropped in.
    return out.sort(function (a, b) { return a.t - b.t; });
  }
  function bytes(text) { return new Blob([text]).size; }
  // Size in a request's body (with its comma), and whether an event is too big for
  // any request (13 bytes: the body's envelope).
  function size(e) { return bytes(e.j) + 1; }
  function big(e) { return size(e) + 13 > 61440; }
  // A stored outbox entry as the outbox uses it, or null. Storage is untrusted: an
  // entry that is not one, or too big to send (only foreign data can be), goes; odd
  // counters read as 0; nothing else is kept.
  function entry(e) {
    return e && typeof e.i == "string" && typeof e.g == "string" && typeof e.t == "number" && typeof e.j == "string" &&
      !big(e) ? { i: e.i, g: e.g, p: String(e.p || ""), t: e.t, n: +e.n || 0, a: +e.a || 0, j: e.j } : null;
  }
  // Stores event `e`, and what storage refused before.
  function save(e) {
    held[e.i] = e;
    if (!unreadable) for (var k in held) {
      try { store.setItem(OUTBOX + k, JSON.stringify(held[k])); } catch (x) { return; }
      delete held[k];
    }
  }
  function drop(e) {
    delete held[e.i];
    try { store.removeItem(OUTBOX + e.i); } catch (x) {}
  }
  // The outbox `q` with the `fresh` events, within its bounds: the oldest go first,
  // but not those a request carries, since the relay may yet accept them and their
  // triggers must then stay resting.
  function add(q, fresh) {
    var total = 0, dropped = [];
    // An event too big for any request (long profile fields and data) could only
    // wait for its expiry, pushing out the others meanwhile: it is given up at once.
    giveUp(fresh.filter(big), " event(s) too big to send (over 60 KB) were dropped");
    q = q.concat(fresh.filter(not(big)));
    q.forEach(function (e) { total += size(e); });
    while (q.length > 50 || total > 61440) {
      var i = 0;
      while (i < q.length - 1 && inFlight.indexOf(q[i].i) >= 0) i++;
      dropped.push(q.splice(i, 1)[0]);
      total -= size(dropped[dropped.length - 1]);
    }
    fresh.forEach(function (e) { if (q.indexOf(e) >= 0) save(e); });
    dropped.forEach(drop);
    giveUp(dropped, " old event(s) that the relay never received were dropped: the outbox is full");
    return q;
  }
  // Events that will never be delivered: said once, and their triggers are not
  // resting (they may fire again, rather than stay quiet for nothing).
  function giveUp(events, what) {
    if (!events.length) return;
    events.forEach(function (e) { wasm(4, [e.g, e.p, e.t]); });
    say("warn", what = events.length + what);
    // Their traces, if they were this page's, say so rather than wait for ever.
    answered(events.map(function (e) { return e.i; }), [], what, true);
  }
  function mine(ids) { return function (e) { return ids.indexOf(e.i) >= 0; }; }
  function not(f) { return function (e) { return !f(e); }; }
  // The due events (with `all`, for the pagehide beacon, those waiting out a backoff
  // too: this page may be the last), not those a fetch already carries, under 60 KB.
  function batch(q, all) {
    var now = Date.now(), parts = [], ids = [], total = 13;
    q.forEach(function (e) {
      var n = size(e);
      if ((e.a <= now || all) && inFlight.indexOf(e.i) < 0 && total + n <= 61440) { parts.push(e.j); ids.push(e.i); total += n; }
    });
    return ids.length ? { body: '{"events":[' + parts.join(",") + "]}", ids: ids } : null;
  }
  // The outbox without the events that have waited 3 days, which are given up.
  function unexpired(q) {
    var now = Date.now(), old = function (e) { return now - e.t >= MAX_AGE; };
    var expired = q.filter(old);
    expired.forEach(drop);
    giveUp(expired, " event(s) waited too long for the relay and were dropped");
    return q.filter(not(old));
  }
  // One request at a time. Consent withdrawn (or a privacy signal) on this page:
  // events queued on an earlier one wait too. Returns the outbox `q` as it is now.
  function flush(q) {
    if (busy || !snip || !sendable) return q;
    var b = batch(q = unexpired(q), false);
    if (!b) return q;
    busy = true;
    inFlight = b.ids;
    function done(status, text) { run(function () { answer(status, text); }); }
    fetch(relay, {
      method: "POST", body: b.body, keepalive: b.body.length < 60000,
      headers: { "content-type": "text/plain;charset=UTF-8" }
    }).then(function (r) {
      return r.text().then(function (t) { done(r.status, t); }, function () { done(r.status, ""); });
    }, function (e) { done(0, String((e && e.message) || e)); });
    return q;
  }
  // The relay's answer: accepted events leave the outbox; what it refused will not be
  // delivered (those triggers are not resting); when it is unreachable or busy, the
  // events stay and back off with jitter.
  function answer(status, text) {
    var sent = inFlight, q = load(), isSent = mine(sent), accepted = [], error = "", a;
    busy = false;
    inFlight = [];
    try { a = JSON.parse(text); } catch (e) {}
    a = a && typeof a == "object" ? a : {};
    var rejected = Array.isArray(a.rejected) ? a.rejected : null;
    if (status == 0 || status == 408 || status == 429 || status >= 500) {
      error = "could not reach the relay; " + sent.length + " event(s) will be retried" + (status ? " (HTTP " + status + ")" : "");
      say("warn", error);
      var now = Date.now(), gone = [];
      q.filter(isSent).forEach(function (e) {
        e.n++;
        // 4 s, 8 s, ... up to about 8.5 minutes, each ±50% so that many visitors do
        // not come back at the same moment.
        e.a = now + Math.round(2000 * Math.pow(2, Math.min(e.n, 8)) * (0.5 + Math.random()));
        if (e.n < 20 && now - e.t < MAX_AGE) save(e);
        else drop(e), gone.push(e);
      });
      giveUp(gone, " event(s) could not be sent (20 attempts, or 3 days) and were dropped");
    } else {
      // Each rejected event with the relay's reason; a batch refused as a whole (a
      // 4xx will not get better by retrying) with the relay's error.
      (rejected || []).forEach(function (r) {
        r = r || {};
        say("warn", "the relay rejected event " + (typeof r.id == "string" ? r.id : "?") + ": " + (typeof r.reason == "string" ? r.reason : ""));
      });
      if (status < 300 && Array.isArray(a.accepted)) accepted = a.accepted.filter(function (id) { return typeof id == "string"; });
      if (status >= 300) {
        error = "the relay refused the batch (HTTP " + status + "): " + (typeof a.error == "string" ? a.error : text);
        if (!rejected) say("warn", error);
      }
      q.filter(isSent).forEach(function (e) {
        drop(e);
        if (accepted.indexOf(e.i) < 0) wasm(4, [e.g, e.p, e.t]);
      });
    }
    answered(sent, accepted, error);
  }
  // Timed conditions (dwell, a sequence's wait) and retries ask to be woken.
  function schedule(q) {
    clearTimeout(timer);
    if (!snip) return;
    var now = Date.now(), ms = wakeAt ? Math.max(0, wakeAt - now) : -1;
    // While a request is out, its answer sends what is due next; while sending is
    // not allowed (consent, a privacy signal), nothing is due until it is.
    if (!busy && sendable) q.forEach(function (e) {
      if (ms < 0 || e.a - now < ms) ms = Math.max(0, e.a - now);
    });
    if (ms >= 0) timer = setTimeout(function () { run(function () { wasm(3); }); }, Math.min(ms + 20, 2147483647));
  }
  // Leaving the page: what still waits (a retry's backoff) goes by sendBeacon. It
  // stays queued, and the relay drops the duplicate if a later page sends it again.
  function hide() {
    if (!snip || !nav.sendBeacon) return;
    try {
      var b = sendable && batch(unexpired(load()), true);
      // (It throws for a relay address it cannot send to.)
      if (b) nav.sendBeacon(relay, new Blob([b.body], { type: "text/plain;charset=UTF-8" }));
    } catch (e) {}
  }
  w.addEventListener("pagehide", hide);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") hide(); });
  // A queued call, made again. A page's type declared on a page the app has left
  // since (while the wasm loaded, or within one navigation's tick) does not declare
  // the page the view was counted for.
  function replay(args) {
    if (args[0] !== "page" || args.key === pageKey()) call(args);
  }
  // The page view (op 1).
  function view() {
    counted = pageKey();
    wasm(1);
  }
  // Single-page apps: every history change may be a new page; the wasm counts a view
  // only when the URL really changed. Deferred a tick, so the app can set the title.
  function navigated() {
    if (moving) return;
    moving = true;
    setTimeout(function () {
      moving = false;
      run(view);
      var calls = queue;
      queue = [];
      calls.forEach(replay);
    }, 0);
  }
  ["pushState", "replaceState"].forEach(function (m) {
    var original = w.history && w.history[m];
    // A site that locked `history` keeps it locked: its navigations then count on
    // the next page load only.
    if (typeof original === "function") try {
      w.history[m] = function () {
        var result = original.apply(this, arguments);
        navigated();
        return result;
      };
    } catch (e) {}
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
  // What the wasm may do in the page (crates/snippet/src/io.rs). The glue below calls
  // `io.get(...)` and the like: this object, in this scope, not a global. Nothing
  // here throws: storage can be blocked, and a pattern can be refused.
  // `mem`: what this page wrote, for when storage cannot give it back: blocked, not
  // readable, or the write refused (a full quota; those keys are `lost`). The
  // history, Stop timers and session then still hold within the page.
  var patterns = [], refused = "", store = null, mem = {}, lost = {};
  try { store = w.localStorage || null; } catch (e) {}
  var io = {
    get: function (k) {
      if (!lost[k]) try { return store.getItem(k); } catch (e) {}
      return k in mem ? mem[k] : null;
    },
    set: function (k, v) {
      mem[k] = v;
      try { store.setItem(k, v); delete lost[k]; } catch (e) { lost[k] = 1; }
    },
    del: function (k) {
      delete mem[k];
      try { store.removeItem(k); delete lost[k]; } catch (e) { lost[k] = 1; }
    },
    // Consent withdrawn: every sitehook key goes, the outbox with them, and the
    // traces waiting for the relay's answer.
    wipe: function () {
      held = Object.create(null);
      mem = {};
      lost = {};
      waiting = [];
      try {
        for (var i = store.length; i--;) {
          var k = store.key(i);
          if (k && k.indexOf("sitehook:") === 0) store.removeItem(k);
        }
      } catch (e) {}
    },
    re: function (p, i) {
      try { return patterns.push(new RegExp(p, i ? "i" : "")) - 1; } catch (e) { refused = String((e && e.message) || e); return -1; }
    },
    why: function () { return refused; },
    test: function (id, t) { return patterns[id].test(t); },
    q: function (q, n) { return new URLSearchParams(q).get(n); },
    out: function (t) { outs.push(t); },
    warn: function (t) { print("warn", t); },
    log: function (t) { print("log", t); },
    now: function () { return w.performance ? performance.now() : 0; },
    ms: function () { return Date.now(); },
    gpc: function () { return nav.globalPrivacyControl === true || nav.doNotTrack === "1"; }
  };
  // `?sitehook_debug=1` turns the trace on for the rest of the browser session, `=0`
  // off, where the config allows it (allowDebugParam); a bare one says nothing.
  // (`cfg` is the config as the wasm reads it.)
  function debugParam() {
    var K = "sitehook:debug", s = null, v = null;
    if (cfg.allowDebugParam !== true) return false;
    try {
      s = w.sessionStorage;
      v = new URLSearchParams(location.search).get("sitehook_debug");
    } catch (e) { return false; }
    try {
      if (v) {
        if (v === "1") s.setItem(K, "1"); else s.removeItem(K);
        return v === "1";
      }
      return s.getItem(K) === "1";
    } catch (e) { return v === "1"; }
  }
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
  // `wordless`: the explaining build could not be loaded, so the visitor build runs
  // the triggers it could read, without words.
  function boot(file, wordless) {
    var hash = hashes[file], g;
    // Inside a promise, so that a browser without `fetch`, or without the
    // `TextDecoder` the glue makes at once, gets the line below, not an exception.
    Promise.resolve().then(function () {
      g = glue();
      return g(fetch(base + file, hash.indexOf("sha384-") === 0 ? { integrity: hash } : {}));
    }).then(function () {
      var started;
      try {
        // The config as the wasm reads it, read once: kept to make the events with,
        // and handed over as this text.
        var text = json(w.sitehookConfig);
        cfg = JSON.parse(text) || {};
        fields = JSON.parse(json(w.__sitehookFields));
        // Where events go: the config's relay (the wasm warns if it is not a string),
        // else where this script came from.
        relay = (typeof cfg.relay == "string" ? cfg.relay : base).replace(/\/+$/, "") + "/v1/events";
        snip = g;
        started = wasm(0, [!!wordless, debugParam()], text);
      } catch (e) {
        snip = null;
        off = true;
        say("warn", "stopped by an internal error (" + ((e && e.message) || e) + "); triggers are off on this page");
        return;
      }
      // 1: started; 2: declined, wanting the explaining build (see `enter`).
      if (started !== 1) {
        snip = null;
        if (file === VISITOR && !wordless && started === 2) boot("sitehook-debug.wasm");
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
      counted = pageKey();
      calls.forEach(function (args) {
        if (args[0] === "track") later.push(args);
        else replay(args);
      });
      run(view);
      later.forEach(call);
    }, function (e) {
      var why = (e && e.message) || e;
      if (file !== VISITOR) {
        say("warn", "could not load " + file + " (" + why + "), the explaining build this page " +
          "needs because its config has a problem or debugging is on: serve it beside sitehook.js. " +
          "The triggers without a problem run, and nothing is explained");
        boot(VISITOR, true);
        return;
      }
      off = true;
      say("info", "could not start (" + why + "). A Content-Security-Policy needs " +
        "script-src 'wasm-unsafe-eval' and connect-src for the relay; triggers are off on this page");
    });
  }
  boot(VISITOR);
})();
