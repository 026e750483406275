"""Atom feeds of public content: latest threads, per category, tag and organisation, a thread's posts.

Feeds are read by feed readers without a session, so every feed shows what a visitor may read,
whoever asks: the queries filter through ``visible_threads(AnonymousUser())``, never through
``request.user``. A private category or a hidden thread answers 404, as its page does to a visitor.

Entry and feed ids are tag URIs (RFC 4151) built from primary keys and the host of
``settings.SITE_URL``: they stay the same when a title or slug changes, and do not depend on the
Host header a reader happened to use (www or not, a port, a proxy).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from taggit.models import Tag

from accounts.models import Organisation, User

from .models import Category, Post, Thread
from .permissions import is_public_category, visible_threads
from .selectors import visible_tags

THREADS_PER_FEED = 30
POSTS_PER_FEED = 50
# The year in the tag URIs: part of every id, so it never changes.
TAG_URI_YEAR = 2026


def tag_uri(*parts: object) -> str:
    """A stable Atom id, e.g. ``tag:forum.example.org,2026:thread:42``."""
    authority = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{authority},{TAG_URI_YEAR}:" + ":".join(str(part) for part in parts)


def public_name(user: User | None) -> str:
    """The name the thread page shows a visitor (templates/forum/includes/author_line.html)."""
    if user is None or not (user.is_active or (user.departed_at and not user.erased_at)):
        return _("ehemaliges Mitglied")
    # A member who left stays named (accounts/turnover.py).
    return user.display_name


class ForumAtomFeed(Atom1Feed):
    """Atom with the post HTML as ``<content>`` (the full text), not as a ``<summary>``."""

    def root_attributes(self):
        # Post HTML may hold site-relative links (tags, attachments): resolve them on the site.
        return {**super().root_attributes(), "xml:base": self.feed["link"]}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"]:
            handler.addQuickElement("content", item["description"], {"type": "html"})


def public_threads() -> QuerySet[Thread]:
    """Threads a visitor may read, with what an entry shows, in two queries for any number.

    The first post joins in through a filtered relation (one row per thread: the number is
    unique within a thread); a hidden first post leaves the content empty. Tags are prefetched.
    """
    return (
        visible_threads(AnonymousUser())
        .select_related("author")
        .only(
            "title",
            "slug",
            "created_at",
            "updated_at",
            "author__display_name",
            "author__is_active",
            "author__departed_at",
            "author__erased_at",
        )
        .annotate(
            first_post=FilteredRelation(
                "posts",
                condition=Q(
                    posts__number=1,
                    posts__is_deleted=False,
                    posts__is_hidden=False,
                    posts__is_held=False,
                ),
            ),
            first_html=F("first_post__body_html"),
            first_edited_at=F("first_post__edited_at"),
        )
        .prefetch_related("tags")
        .order_by("-created_at", "-id")
    )


class LatestThreadsFeed(Feed):
    """The newest public threads; subclasses narrow the list to one category, tag or body."""

    feed_type = ForumAtomFeed

    def get_object(self, request, *args, **kwargs):
        return None

    def title(self, obj) -> str:
        return _("Neue Themen – %(forum)s") % {"forum": settings.FORUM_NAME}

    def subtitle(self, obj) -> str:
        return _("Die neuesten öffentlichen Themen aus dem Erfahrungsaustausch der Kommunen")

    def link(self, obj) -> str:
        return reverse("forum:home")

    def feed_guid(self, obj) -> str:
        return tag_uri("feed", "threads")

    def author_name(self, obj) -> str:
        return settings.FORUM_NAME

    def threads(self, obj) -> QuerySet[Thread]:
        return public_threads()

    def items(self, obj) -> list[Thread]:
        return list(self.threads(obj)[:THREADS_PER_FEED])

    def item_title(self, thread: Thread) -> str:
        # Atom titles are plain text (the XML writer escapes): no HTML escaping here.
        return thread.title

    def item_link(self, thread: Thread) -> str:
        return thread.get_absolute_url()

    def item_guid(self, thread: Thread) -> str:
        return tag_uri("thread", thread.pk)

    def item_description(self, thread: Thread) -> str:
        # The HTML sanitised at write time; never rendered again here.
        return thread.first_html or ""

    def item_author_name(self, thread: Thread) -> str:
        return public_name(thread.author)

    def item_pubdate(self, thread: Thread) -> datetime:
        return thread.created_at

    def item_updateddate(self, thread: Thread) -> datetime:
        # A new title or tags (updated_at) or an edited first post change the entry.
        return max(d for d in (thread.updated_at, thread.first_edited_at) if d is not None)

    def item_categories(self, thread: Thread) -> list[str]:
        return sorted(tag.name for tag in thread.tags.all())


class CategoryFeed(LatestThreadsFeed):
    def get_object(self, request, slug: str) -> Category:
        category = Category.objects.filter(slug=slug).first()
        if category is None or not is_public_category(category):
            raise Http404
        return category

    def title(self, category: Category) -> str:
        return _("Themenfeld „%(name)s“ – %(forum)s") % {
            "name": category.name,
            "forum": settings.FORUM_NAME,
        }

    def subtitle(self, category: Category) -> str:
        return category.description or _("Die neuesten Themen in diesem Themenfeld")

    def link(self, category: Category) -> str:
        return category.get_absolute_url()

    def feed_guid(self, category: Category) -> str:
        return tag_uri("feed", "category", category.pk)

    def threads(self, category: Category) -> QuerySet[Thread]:
        return public_threads().filter(category=category)


class TagFeed(LatestThreadsFeed):
    def get_object(self, request, slug: str) -> Tag:
        # Only a tag a visitor may know of: one used solely in private categories is unknown.
        tag = visible_tags(AnonymousUser()).filter(slug=slug).first()
        if tag is None:
            raise Http404
        return tag

    def title(self, tag: Tag) -> str:
        return _("Schlagwort „%(name)s“ – %(forum)s") % {
            "name": tag.name,
            "forum": settings.FORUM_NAME,
        }

    def subtitle(self, tag: Tag) -> str:
        return _("Die neuesten öffentlichen Themen mit diesem Schlagwort")

    def link(self, tag: Tag) -> str:
        return reverse("forum:tag", kwargs={"slug": tag.slug})

    def feed_guid(self, tag: Tag) -> str:
        return tag_uri("feed", "tag", tag.pk)

    def threads(self, tag: Tag) -> QuerySet[Thread]:
        return public_threads().filter(tags=tag)


class OrganisationFeed(LatestThreadsFeed):
    def get_object(self, request, slug: str) -> Organisation:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise Http404
        return organisation

    def title(self, organisation: Organisation) -> str:
        return _("Organisation „%(name)s“ – %(forum)s") % {
            "name": organisation.name,
            "forum": settings.FORUM_NAME,
        }

    def subtitle(self, organisation: Organisation) -> str:
        return _("Die neuesten öffentlichen Themen aus dieser Organisation")

    def link(self, organisation: Organisation) -> str:
        return organisation.get_absolute_url()

    def feed_guid(self, organisation: Organisation) -> str:
        return tag_uri("feed", "organisation", organisation.pk)

    def threads(self, organisation: Organisation) -> QuerySet[Thread]:
        return public_threads().filter(organisation=organisation)


class ThreadPostsFeed(Feed):
    """The latest posts of one public thread; deleted and hidden posts never appear."""

    feed_type = ForumAtomFeed

    def get_object(self, request, pk: int) -> Thread:
        thread = (
            visible_threads(AnonymousUser())
            .select_related("category")
            .only("title", "slug", "category__name")
            .filter(pk=pk)
            .first()
        )
        if thread is None:
            raise Http404
        return thread

    def title(self, thread: Thread) -> str:
        return _("Thema „%(title)s“ – %(forum)s") % {
            "title": thread.title,
            "forum": settings.FORUM_NAME,
        }

    def subtitle(self, thread: Thread) -> str:
        return _("Beiträge im Themenfeld „%(category)s“") % {"category": thread.category.name}

    def link(self, thread: Thread) -> str:
        return thread.get_absolute_url()

    def feed_guid(self, thread: Thread) -> str:
        return tag_uri("feed", "thread", thread.pk)

    def author_name(self, thread: Thread) -> str:
        return settings.FORUM_NAME

    def items(self, thread: Thread) -> list[Post]:
        posts = list(
            thread.posts.filter(is_deleted=False, is_hidden=False, is_held=False)
            .select_related("author")
            .only(
                "thread_id",
                "number",
                "body_html",
                "created_at",
                "edited_at",
                "author__display_name",
                "author__is_active",
                "author__departed_at",
                "author__erased_at",
            )
            .order_by("-number")[:POSTS_PER_FEED]
        )
        for post in posts:
            post.thread = thread  # the links need the thread's slug: no query per post
        return posts

    def item_title(self, post: Post) -> str:
        return _("Beitrag #%(number)s von %(author)s") % {
            "number": post.number,
            "author": public_name(post.author),
        }

    def item_link(self, post: Post) -> str:
        # The thread page (right page of it) with the post's anchor, #post-<number>.
        return post.get_absolute_url()

    def item_guid(self, post: Post) -> str:
        return tag_uri("post", post.pk)

    def item_description(self, post: Post) -> str:
        return post.body_html

    def item_author_name(self, post: Post) -> str:
        return public_name(post.author)

    def item_pubdate(self, post: Post) -> datetime:
        return post.created_at

    def item_updateddate(self, post: Post) -> datetime:
        return post.edited_at or post.created_at


class CollectionsFeed(Feed):
    """Published public collections, newest first (what a visitor may read)."""

    feed_type = ForumAtomFeed

    def title(self) -> str:
        return _("Sammlungen – %(forum)s") % {"forum": settings.FORUM_NAME}

    def subtitle(self) -> str:
        return _("Neu veröffentlichte Sammlungen guter Praxis")

    def link(self) -> str:
        return reverse("forum:collections")

    def feed_guid(self) -> str:
        return tag_uri("feed", "collections")

    def author_name(self) -> str:
        return settings.FORUM_NAME

    def items(self):
        from .permissions import visible_collections

        return list(
            visible_collections(AnonymousUser()).order_by("-published_at")[:THREADS_PER_FEED]
        )

    def item_title(self, collection) -> str:
        return collection.title

    def item_link(self, collection) -> str:
        return collection.get_absolute_url()

    def item_guid(self, collection) -> str:
        return tag_uri("collection", collection.pk)

    def item_description(self, collection) -> str:
        return collection.intro_html or ""

    def item_pubdate(self, collection):
        return collection.published_at

    def item_updateddate(self, collection):
        return collection.updated_at
