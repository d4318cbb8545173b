// sredesk's own page behaviour, loaded by base.html (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // A double click must not send a form twice: disable its buttons once it is on its way.
  // (After the submit event, so the clicked button's own value is still sent; htmx forms use hx-disabled-elt.)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  // Coming back with the browser's back button shows the page as it was: enable its buttons again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form button[disabled]").forEach(function (button) { button.disabled = false; });
  });

  // The incident list's filters (incidents/list.html).
  document.addEventListener("DOMContentLoaded", function () {
    var filters = document.querySelector("#incident-filters");
    if (!filters) return;
    // Wide screens have room for the filters: show them open.
    if (window.matchMedia("(min-width: 40rem)").matches) {
      filters.querySelector("details").open = true;
    }
    // Leave empty filters out of the request, so the address bar reads like the filter: ?search=card&severity=1
    filters.addEventListener("htmx:configRequest", function (event) {
      var data = event.detail.formData;
      if (!data) return;
      Array.from(data.entries()).forEach(function (entry) { if (entry[1] === "") data.delete(entry[0]); });
    });
  });
})();
