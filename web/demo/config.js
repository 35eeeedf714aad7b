// The demo shop's sitehook configuration. On a real site, the backend writes the
// signed-in visitor's profile (and its identity proof) into this object.
(function () {
  var signedOut = false;
  try {
    signedOut = localStorage.getItem("demo:signed-out") === "1";
  } catch (e) {}

  window.sitehookConfig = {
    // relay: not set, so the snippet sends to the origin it was loaded from.
    profile: signedOut
      ? undefined
      : { profileid: "p-123", email: "ann@example.com", gender: "f", phone: "+31 6 1234 5678" },
    debug: true,
    triggers: [
      {
        id: "pricing-interest",
        on: "page_view",
        if: { all: [
          { path: { startsWith: "/pricing" } },
          { count: { of: { path: { startsWith: "/pricing" } }, atLeast: 3, within: "7d" } }
        ]},
        webhook: "crm-lead",
        data: { automationid: "A-17" },
        stop: { restartAfter: "30d" }
      },
      {
        id: "product-view",
        if: { path: { startsWith: "/products/" } },
        webhook: "product-view",
        stop: { restartAfter: "1d" }
      }
    ]
  };
})();
