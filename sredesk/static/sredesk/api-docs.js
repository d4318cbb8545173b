// Starts Swagger UI (/api/docs/) or Redoc (/api/redoc/) from the data-* attributes of their templates
// (sredesk/templates/api/): drf-spectacular's own pages do it with inline script, which the
// Content-Security-Policy refuses. What it does is drf-spectacular's swagger_ui.js, minus OAuth2 (unused).
(function () {
  "use strict";

  var redoc = document.getElementById("redoc-container");
  if (redoc) {
    var options = Object.assign(JSON.parse(redoc.dataset.settings || "{}"), {nonce: redoc.dataset.nonce});
    Redoc.init(redoc.dataset.schemaUrl, options, redoc);
    return;
  }

  var root = document.getElementById("swagger-ui");
  var settings = JSON.parse(root.dataset.settings || "{}");
  var schemaAuthNames = JSON.parse(root.dataset.schemaAuthNames || "[]");
  var schemaAuthFailed = false;
  var ui = null;

  // A session-authenticated write needs the CSRF token (a token-authenticated one ignores it).
  function requestInterceptor(request) {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed && ui) {
      var authorized = ui.getState().get("auth").get("authorized");
      authorized = authorized ? authorized.toJS() : {};
      schemaAuthNames.forEach(function (name) {
        var auth = authorized[name];
        if (auth && auth.schema && auth.schema.type === "apiKey" && auth.schema.in === "header") {
          request.headers[auth.schema.name] = auth.value;
        } else if (auth && auth.schema && auth.schema.type === "http" && auth.schema.scheme === "bearer") {
          request.headers.Authorization = "Bearer " + auth.value;
        }
      });
    }
    if (["GET", undefined].indexOf(request.method) === -1 && request.credentials === "same-origin") {
      request.headers[root.dataset.csrfHeader] = root.dataset.csrfToken;
    }
    return request;
  }

  // The schema refused with the credentials given: load it once more without them.
  function responseInterceptor(response) {
    if (!response.ok && ui && response.url === new URL(ui.getConfigs().url, document.baseURI).href && !schemaAuthFailed) {
      schemaAuthFailed = true;
      setTimeout(function () { ui.specActions.download(); });
    }
    return response;
  }

  ui = SwaggerUIBundle(Object.assign({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: requestInterceptor,
    responseInterceptor: responseInterceptor,
  }, settings));
})();
