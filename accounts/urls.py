from django.urls import path

from . import views, views_erasure, views_privacy, views_suspension, views_turnover

app_name = "accounts"

urlpatterns = [
    path("o/", views.organisation_list, name="organisations"),
    path("o/<slug:slug>/", views.organisation_detail, name="organisation"),
    path("u/", views.member_directory, name="directory"),
    path("u/vorschlaege/", views.member_suggest, name="member_suggest"),
    path("u/<str:handle>/", views.member_profile, name="profile"),
    path("accounts/profile/", views.profile_edit, name="profile_edit"),
    path("accounts/profile/daten/", views_privacy.privacy_export, name="privacy_export"),
    path("accounts/profile/vertretung/", views_turnover.own_deputy, name="own_deputy"),
    path("accounts/profile/loeschen/", views_erasure.account_delete, name="account_delete"),
    path("accounts/konto-geloescht/", views_erasure.account_deleted, name="account_deleted"),
    path("accounts/terms/", views.terms_public, name="terms"),
    path("accounts/invitation/<str:token>/", views.invitation_landing, name="invitation"),
    path("mod/members/", views.mod_members, name="mod_members"),
    path("mod/members/<int:pk>/approve/", views.mod_member_approve, name="mod_member_approve"),
    path("mod/members/<int:pk>/reject/", views.mod_member_reject, name="mod_member_reject"),
    path("mod/members/<str:handle>/sperren/", views_suspension.suspend, name="mod_suspend"),
    path(
        "mod/members/<str:handle>/sperre-aufheben/",
        views_suspension.unsuspend,
        name="mod_unsuspend",
    ),
    path(
        "mod/members/<str:handle>/ausgeschieden/",
        views_turnover.departure,
        name="mod_departure",
    ),
    path(
        "mod/members/<str:handle>/ausgeschieden-aufheben/",
        views_turnover.departure_undo,
        name="mod_departure_undo",
    ),
    path(
        "mod/members/<str:handle>/vertretung/",
        views_turnover.mod_deputy,
        name="mod_deputy",
    ),
    path("mod/invitations/", views.mod_invitations, name="mod_invitations"),
]
