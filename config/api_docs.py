"""The API's documentation pages, Swagger UI (/api/docs/) and Redoc (/api/redoc/), served from our own
static files (drf-spectacular-sidecar) under the site's Content-Security-Policy. No inline script:
Swagger UI's init script is a file of its own (`?script`); Redoc reads its `<redoc spec-url>` element.
Redoc writes its styles as `<style>` elements (styled-components): this page alone allows styles that
carry the response's CSP nonce, which Redoc puts on them (its `nonce` option), and its search index runs
in a worker made from a blob of its own code (`worker-src blob:`); scripts stay 'self'."""

from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "apitokens/swagger_ui.html"


# Two <style> elements the Redoc bundle writes as it loads, before it knows the nonce (its own CSS, and an
# empty one), allowed by their hashes; a new Redoc version shows in tests/api/test_api_docs_e2e.py.
REDOC_LOAD_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
]


@method_decorator(
    csp_update({"style-src": [NONCE, *REDOC_LOAD_STYLE_HASHES], "worker-src": [SELF, "blob:"]}),
    name="dispatch",
)
class RedocDocsView(SpectacularRedocView):
    template_name = "apitokens/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["csp_nonce"] = request.csp_nonce
        return response
