from django.urls import path

from . import feeds
from .views import events, floor, home, mine, notifications, pages, search, threads

app_name = "forum"

urlpatterns = [
    path("", home.home, name="home"),
    path("feeds/themen/", feeds.LatestThreadsFeed(), name="feed_latest"),
    path("feeds/c/<slug:slug>/", feeds.CategoryFeed(), name="feed_category"),
    path("feeds/tags/<slug:slug>/", feeds.TagFeed(), name="feed_tag"),
    path("feeds/o/<slug:slug>/", feeds.OrganisationFeed(), name="feed_organisation"),
    path("feeds/t/<int:pk>/", feeds.ThreadPostsFeed(), name="feed_thread"),
    path("c/", home.category_list, name="categories"),
    path("mein-bereich/", mine.mine, name="mine"),
    path("notifications/", notifications.centre, name="notifications"),
    path("notifications/gelesen/", notifications.mark_read, name="notifications_read"),
    path(
        "notifications/einstellungen/",
        notifications.preferences,
        name="notification_preferences",
    ),
    path("notifications/seit/", notifications.catch_up, name="notifications_catch_up"),
    path("search/", search.search, name="search"),
    path("search/aehnlich/", search.similar, name="search_similar"),
    path("termine/", events.events, name="events"),
    path("termine.ics", events.events_ics, name="events_ics"),
    path("c/<slug:slug>/", home.category_detail, name="category"),
    path("c/<slug:slug>/folgen/", home.category_follow, name="category_follow"),
    path("tags/", home.tag_list, name="tags"),
    path("tags/vorschlaege/", home.tag_suggest, name="tag_suggest"),
    path("tags/<slug:slug>/", home.tag_detail, name="tag"),
    path("tags/<slug:slug>/folgen/", home.tag_follow, name="tag_follow"),
    path("t/neu/", threads.thread_create, name="thread_create"),
    path("t/<int:pk>/", threads.thread_redirect, name="thread_short"),
    path("t/<int:pk>/antworten/", threads.thread_reply, name="thread_reply"),
    path("t/<int:pk>/bearbeiten/", threads.thread_edit, name="thread_edit"),
    path("t/<int:pk>/ergebnis/", threads.summary_edit, name="summary_edit"),
    path("t/<int:pk>/loesung-zuruecknehmen/", threads.answer_withdraw, name="answer_withdraw"),
    path("t/<int:pk>/termin.ics", events.thread_ics, name="thread_ics"),
    path("t/<int:pk>/folgen/", threads.thread_follow, name="thread_follow"),
    path("t/<int:pk>/neue-beitraege/", threads.thread_new_posts, name="thread_new_posts"),
    path("t/<int:pk>/lesezeichen/", threads.thread_bookmark, name="thread_bookmark"),
    # After the fixed sub-paths above: "antworten" would also match as a slug.
    path("t/<int:pk>/<slug:slug>/", threads.thread_detail, name="thread"),
    path("beitrag/<int:pk>/bearbeiten/", threads.post_edit, name="post_edit"),
    path("beitrag/<int:pk>/verlauf/", threads.post_history, name="post_history"),
    path("beitrag/<int:pk>/loeschen/", threads.post_delete, name="post_delete"),
    path("beitrag/<int:pk>/wiederherstellen/", threads.post_restore, name="post_restore"),
    path("beitrag/<int:pk>/hilfreich/", threads.post_react, name="post_react"),
    path("beitrag/<int:pk>/akzeptieren/", threads.answer_accept, name="answer_accept"),
    path("vorschau/", threads.markdown_preview, name="preview"),
    path("anhang/<int:pk>/<str:name>", threads.attachment_download, name="attachment"),
    path("seiten/<slug:slug>/", pages.page, name="page"),
    path("barrierefreiheit/", pages.accessibility, name="accessibility"),
    path("_floor/", floor.floor, name="floor"),
]
