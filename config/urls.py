from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from forum.views.health import healthz

admin.site.site_header = gettext_lazy("Stadtumbau-Forum – Betrieb")
admin.site.site_title = gettext_lazy("Stadtumbau-Forum")
admin.site.index_title = gettext_lazy("Verwaltung")


def admin_login(request, extra_context=None):
    """Operators sign in through allauth like everyone else. The admin's own password form
    would skip the second factor and allauth's rate limits, so it is never shown."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(target, login_url=reverse("account_login"))
    if request.user.is_active and request.user.is_staff:
        return redirect(target)
    raise PermissionDenied(_("Die Verwaltung ist dem Betrieb vorbehalten."))


admin.site.login = admin_login

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("forum.urls")),
]

handler400 = "forum.views.errors.bad_request"
handler403 = "forum.views.errors.permission_denied"
handler404 = "forum.views.errors.page_not_found"
handler500 = "forum.views.errors.server_error"
