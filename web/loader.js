/*! sitehook snippet: evaluates the site's triggers in the browser; nothing leaves the page until one matches for a known profile. */
(function () {
  "use strict";
  var w = window, c = w.console;
  // Two script tags (a theme plus a tag manager, say) must not evaluate twice.
  if (w.__sitehookLoaded) {
    if (c) c.warn("sitehook: the script is included twice; the second copy does nothing");
    return;
  }
  w.__sitehookLoaded = true;
  var s = document.currentScript;
  var base = s && s.src ? s.src.replace(/[?#].*$/, "").replace(/[^\/]*$/, "") : location.origin + "/";
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    if (c) c.info("sitehook: WebAssembly is unavailable in this browser; triggers are off on this page");
    return;
  }
  // The trace panel is a separate script, fetched only when the config (or an allowed
  // ?sitehook_debug=1) turns debugging on: visitors never download it.
  w.addEventListener("sitehook:evaluated", function (e) {
    if (e.detail && e.detail.debug && !w.__sitehookDebug) {
      w.__sitehookDebug = 1;
      var d = document.createElement("script");
      d.src = base + "sitehook-debug.js";
      d.async = true;
      (document.head || document.documentElement).appendChild(d);
    }
  });
/*@GLUE@*/
    wasm_bindgen({ module_or_path: base + "sitehook_bg.wasm" }).then(function () {
    try {
      wasm_bindgen.start(base);
    } catch (e) {
      // A bug in the snippet traps; the page carries on without it.
      if (c) c.warn("sitehook: stopped by an internal error (" + ((e && e.message) || e) + "); triggers are off on this page");
    }
  }, function (e) {
    if (c) c.info("sitehook: could not start (" + ((e && e.message) || e) + "). A Content-Security-Policy needs " +
      "script-src 'wasm-unsafe-eval' and connect-src for the relay; triggers are off on this page");
  });
})();
