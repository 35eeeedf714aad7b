// The demo shop's own page script: the sign-in switch and the reset button.
(function () {
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var s = storage();
    var who = document.getElementById("who");
    var toggle = document.getElementById("toggle-sign-in");
    var reset = document.getElementById("reset");
    var signedOut = s && s.getItem("demo:signed-out") === "1";
    if (who) who.textContent = signedOut ? "Browsing anonymously" : "Signed in as ann@example.com (p-123)";
    if (toggle) {
      toggle.textContent = signedOut ? "Sign in as Ann" : "Sign out";
      toggle.addEventListener("click", function () {
        if (!s) return;
        if (signedOut) s.removeItem("demo:signed-out"); else s.setItem("demo:signed-out", "1");
        location.reload();
      });
    }
    if (reset) {
      reset.addEventListener("click", function () {
        if (!s) return;
        for (var i = s.length - 1; i >= 0; i--) {
          var k = s.key(i);
          if (k && (k.indexOf("sitehook:") === 0 || k.indexOf("demo:") === 0)) s.removeItem(k);
        }
        location.href = "/";
      });
    }
    window.addEventListener("sitehook:evaluated", function (e) {
      var out = document.getElementById("trace");
      if (!out) return;
      var d = e.detail || {};
      var lines = (d.triggers || []).map(function (t) { return t.id + ": " + t.result; });
      if (!d.consent) lines.push("consent withheld: nothing evaluated");
      if (d.sent && d.sent.length) lines.push("sent " + d.sent.length + " event(s) to the relay");
      if (d.error) lines.push("error: " + d.error);
      out.textContent = lines.join("\n") || "no triggers";
    });
  });
})();
