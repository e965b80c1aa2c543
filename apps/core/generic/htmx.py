"""Full page or htmx fragment, from one view."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers


def htmx_partial(request) -> bool:
    """True for htmx requests that want a fragment (not boosted navigations)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def htmx_redirect(request, url: str) -> HttpResponse:
    """Redirect the browser: ``HX-Redirect`` for htmx requests, a 302 otherwise."""
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class PageMixin(LoginRequiredMixin):
    """Renders ``template_name`` for a page and ``partial_template_name`` for htmx.

    Every response varies on ``HX-Request`` so caches keep the two apart.
    """

    template_name: str = ""
    partial_template_name: str | None = None
    nav_section: str = ""
    title: str = ""

    def render(self, context: dict, status: int = 200, template: str | None = None):
        if template is None:
            partial = self.partial_template_name and htmx_partial(self.request)
            template = self.partial_template_name if partial else self.template_name
        context.setdefault("nav_section", self.nav_section)
        context.setdefault("title", self.title)
        response = TemplateResponse(self.request, template, context, status=status)
        patch_vary_headers(response, ["HX-Request"])
        return response
