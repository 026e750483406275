"""The self-service data export (/accounts/profile/daten/): a page that says what the archive
holds, and a POST that builds and downloads it. POST, so that a link prefetcher or crawler
never builds archives; the person only ever gets their own data (there is no id in the URL)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from . import privacy


@never_cache
@login_required
def privacy_export(request):
    if request.method != "POST":
        return render(request, "accounts/privacy_export.html")
    if not privacy.export_allowed(request.user):
        return render(
            request,
            "accounts/privacy_export.html",
            {
                "error": _(
                    "Sie haben Ihre Daten in der letzten Stunde schon mehrmals heruntergeladen. "
                    "Bitte versuchen Sie es in einer Stunde noch einmal."
                )
            },
            status=429,
        )
    archive = privacy.export_build(request.user)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=privacy.export_filename(request.user),
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response
