from django.contrib import admin
from django.urls import include, path

from forum.views.health import healthz

admin.site.site_header = "Stadtumbau-Forum – Betrieb"
admin.site.site_title = "Stadtumbau-Forum"
admin.site.index_title = "Verwaltung"

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
