// Start Swagger UI on the spec named by the page; session calls send the CSRF header.
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.specUrl,
    dom_id: "#swagger-ui",
    requestInterceptor: function (req) { req.headers["X-CSRFToken"] = el.dataset.csrf; return req; }
  });
})();
