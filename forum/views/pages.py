from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forum import selectors
from forum.forms import AccessibilityFeedbackForm
from forum.models import SitePage
from forum.services.pages import accessibility_feedback_submit


def page(request, slug: str):
    if slug == SitePage.Slug.ACCESSIBILITY:
        return redirect("forum:accessibility", permanent=True)
    site_page = selectors.site_page(slug)
    if site_page is None:
        raise Http404
    return render(request, "forum/page.html", {"page": site_page})


@require_http_methods(["GET", "POST"])
def accessibility(request):
    """The accessibility statement with its feedback form (required by BITV 2.0)."""
    site_page = selectors.site_page(SitePage.Slug.ACCESSIBILITY)
    form = AccessibilityFeedbackForm(
        request.POST or None, initial={"page_url": request.GET.get("seite", "")[:500]}
    )
    if request.method == "POST" and form.is_valid():
        accessibility_feedback_submit(request.user, **form.cleaned_data)
        messages.success(
            request,
            _(
                "Vielen Dank für Ihre Rückmeldung. Wir melden uns, wenn Sie eine Adresse angegeben haben."
            ),
        )
        return redirect("forum:accessibility")
    return render(request, "forum/accessibility.html", {"page": site_page, "form": form})
