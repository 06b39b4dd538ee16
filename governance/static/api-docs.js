/* Starts Swagger UI on the API's own OpenAPI document (a file, so the page needs no inline
   script under the Content-Security-Policy). */
window.addEventListener('DOMContentLoaded', function () {
  'use strict';
  var root = document.getElementById('swagger-ui');
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    tryItOutEnabled: false,
    validatorUrl: null
  });
});
