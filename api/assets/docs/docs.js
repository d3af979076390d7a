// Swagger UI on this server's own document. Everything comes from this server: the
// validator badge is off (it would call validator.swagger.io) and so is the "explore" bar.
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    // The bearer token typed into "Authorize" is kept across reloads of the page.
    persistAuthorization: true,
    displayOperationId: true,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
