from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from forum.views.health import healthz

admin.site.site_header = _("Stadtumbau-Forum – Betrieb")
admin.site.site_title = _("Stadtumbau-Forum")
admin.site.index_title = _("Verwaltung")

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
