"""Reads that pages need, with fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from taggit.models import Tag

from accounts.permissions import is_moderator

from .models import (
    Attachment,
    Bookmark,
    Category,
    Level,
    Post,
    PostRevision,
    ProjectProfile,
    Reaction,
    ReadState,
    SitePage,
    TagFollow,
    Thread,
    ThreadFollow,
)
from .permissions import visible_categories, visible_threads

POSTS_PER_PAGE = 20
THREADS_PER_PAGE = 30

THREAD_ROW_FIELDS = (
    "title",
    "updated_at",
    "slug",
    "kind",
    "post_count",
    "last_number",
    "created_at",
    "last_activity_at",
    "is_pinned",
    "is_pinned_globally",
    "is_locked",
    "is_hidden",
    "accepted_post_id",
    "author_id",
    "category__name",
    "category__slug",
    "category__visibility",
    "organisation__name",
    "organisation__slug",
    "last_poster__display_name",
    "profile__programme",
    "profile__status",
)
POST_FIELDS = (
    "thread_id",
    "has_attachments",
    "number",
    "author_id",
    "body_html",
    "created_at",
    "edited_at",
    "edit_count",
    "is_deleted",
    "is_hidden",
    "is_held",
    "helpful_count",
    "author__display_name",
    "author__handle",
    "author__is_active",
    "author__departed_at",
    "author__erased_at",
    "author__organisation__name",
)

THREAD_PAGE_FIELDS = (
    *(f.name for f in Thread._meta.concrete_fields if f.name not in ("summary",)),
    "summary",
    "category__name",
    "category__slug",
    "category__visibility",
    "summary_by__display_name",
    "summary_by__handle",
    "summary_by__is_active",
    "summary_by__departed_at",
    "summary_by__erased_at",
    "summary_by__organisation__name",
    *(f"accepted_post__{name}" for name in POST_FIELDS),
    *(f"profile__{f.name}" for f in ProjectProfile._meta.concrete_fields),
    "profile__organisation__name",
    "profile__organisation__slug",
)

SORTS = {
    "aktivitaet": ("-is_pinned", "-last_activity_at"),
    "neu": ("-created_at",),
    "antworten": ("-post_count", "-last_activity_at"),
}


def categories_for(user) -> QuerySet[Category]:
    return visible_categories(user).order_by("position", "name")


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def site_page(slug: str) -> SitePage | None:
    return SitePage.objects.filter(slug=slug).first()


# --- Thread lists -----------------------------------------------------------------------------


@dataclass
class ThreadFilters:
    category: Category | None = None
    tag: Tag | None = None
    organisation_id: int | None = None
    author_id: int | None = None
    kind: str = ""
    unanswered: bool = False
    solved: str = ""  # "ja", "nein" or ""
    programme: str = ""
    status: str = ""
    created_from: date | None = None
    created_to: date | None = None
    sort: str = "aktivitaet"

    def any_set(self) -> bool:
        """Whether anything narrows the list (the sort order does not)."""
        return any(
            (
                self.category,
                self.tag,
                self.organisation_id,
                self.author_id,
                self.kind,
                self.unanswered,
                self.solved,
                self.programme,
                self.status,
                self.created_from,
                self.created_to,
            )
        )


def filter_threads(user, filters: ThreadFilters) -> QuerySet[Thread]:
    """The threads a person may read, narrowed by the filters; no ordering, no extra columns.

    Lists, search and feeds start here, so a filter means the same everywhere.
    """
    qs = visible_threads(user)
    if filters.category is not None:
        qs = qs.filter(category=filters.category)
    if filters.tag is not None:
        qs = qs.filter(tags=filters.tag)
    if filters.organisation_id:
        qs = qs.filter(organisation_id=filters.organisation_id)
    if filters.author_id:
        qs = qs.filter(author_id=filters.author_id)
    if filters.kind in Thread.Kind.values:
        qs = qs.filter(kind=filters.kind)
    if filters.unanswered:
        qs = qs.filter(kind=Thread.Kind.QUESTION, post_count__lte=1)
    if filters.solved == "ja":
        qs = qs.filter(accepted_post__isnull=False)
    elif filters.solved == "nein":
        qs = qs.filter(kind=Thread.Kind.QUESTION, accepted_post__isnull=True)
    if filters.programme:
        qs = qs.filter(profile__programme=filters.programme)
    if filters.status:
        qs = qs.filter(profile__status=filters.status)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    return qs


def thread_list(user, filters: ThreadFilters, page_number) -> Page:
    """A page of threads a person may read, with what the list rows show, in fixed queries."""
    # Only the columns a list row shows: with ORDER BY, Django's compiler hashes every selected
    # column, so a wide select_related row costs milliseconds before the query even runs.
    qs = (
        filter_threads(user, filters)
        .select_related("category", "organisation", "last_poster", "profile")
        .only(*THREAD_ROW_FIELDS)
    )
    if user.is_authenticated:
        qs = qs.annotate(
            last_read=Subquery(
                ReadState.objects.filter(user=user, thread=OuterRef("pk")).values(
                    "last_read_number"
                )[:1],
                output_field=IntegerField(),
            )
        )
    else:
        qs = qs.annotate(last_read=Value(None, output_field=IntegerField()))
    order = SORTS.get(filters.sort, SORTS["aktivitaet"])
    if filters.category is None and order[0] == "-is_pinned":
        # Outside a category only threads pinned site-wide come first.
        order = ("-is_pinned_globally", *order[1:])
    qs = qs.order_by(*order, "-pk")
    # Tags are fetched only for rows whose cached fragment is missing (forum/fragments.py).
    return Paginator(qs, THREADS_PER_PAGE).get_page(page_number)


# --- One thread -------------------------------------------------------------------------------


def _single(qs):
    """One row or None, without ORDER BY: for a wide select_related row, compiling the
    ordering costs more than running the query."""
    return next(iter(qs.order_by()[:1]), None)


def thread_for_page(pk: int) -> Thread | None:
    """The thread with what its page shows; only those columns (see THREAD_ROW_FIELDS)."""
    return _single(
        Thread.objects.select_related(
            "category",
            "summary_by__organisation",
            "accepted_post__author__organisation",
            "profile__organisation",
        )
        .only(*THREAD_PAGE_FIELDS)
        .prefetch_related("tags")
        .filter(pk=pk)
    )


def posts_page(thread: Thread, user, page_number) -> Page:
    """A page of posts by number: page p holds numbers (p-1)*N+1 … p*N, so a post's page follows
    from its number (links, notifications) even when posts were split off and left a gap."""
    paginator = Paginator(range(thread.last_number), POSTS_PER_PAGE)
    page = paginator.get_page(page_number)
    first = (page.number - 1) * POSTS_PER_PAGE
    posts = visible_posts(
        thread.posts.filter(number__gt=first, number__lte=first + POSTS_PER_PAGE), user
    )
    posts = posts.select_related("author__organisation").only(*POST_FIELDS).order_by("number")
    if user.is_authenticated:
        posts = posts.annotate(
            reacted=Exists(Reaction.objects.filter(post=OuterRef("pk"), user=user)),
            bookmarked=Exists(Bookmark.objects.filter(post=OuterRef("pk"), user=user)),
        )
    page.object_list = list(posts)
    with_files = [post for post in page.object_list if post.has_attachments]
    if with_files:
        prefetch_related_objects(with_files, "attachments")
    return page


def visible_posts(qs, user):
    """Held posts (waiting for approval) only for their author and the moderation."""
    if is_moderator(user):
        return qs
    if user.is_authenticated:
        return qs.filter(Q(is_held=False) | Q(author=user))
    return qs.filter(is_held=False)


def posts_after(thread: Thread, user, number: int, limit: int = 50) -> list[Post]:
    """Posts after ``number`` for loading new replies in place: the columns and per-reader
    marks of posts_page, at most ``limit``."""
    posts = (
        visible_posts(thread.posts.filter(number__gt=number), user)
        .select_related("author__organisation")
        .only(*POST_FIELDS)
        .order_by("number")
    )
    if user.is_authenticated:
        posts = posts.annotate(
            reacted=Exists(Reaction.objects.filter(post=OuterRef("pk"), user=user)),
            bookmarked=Exists(Bookmark.objects.filter(post=OuterRef("pk"), user=user)),
        )
    result = list(posts[:limit])
    with_files = [post for post in result if post.has_attachments]
    if with_files:
        prefetch_related_objects(with_files, "attachments")
    return result


@dataclass
class Personal:
    follow_level: str = Level.NORMAL
    last_read: int = 0
    thread_bookmarked: bool = False


def personal_state(user, thread: Thread) -> Personal:
    """The reader's follow level, read position and bookmark for one thread: one query."""
    if not user.is_authenticated:
        return Personal()
    row = _single(
        Thread.objects.filter(pk=thread.pk)
        .annotate(
            level=Subquery(
                ThreadFollow.objects.filter(user=user, thread=OuterRef("pk")).values("level")[:1]
            ),
            last_read=Subquery(
                ReadState.objects.filter(user=user, thread=OuterRef("pk")).values(
                    "last_read_number"
                )[:1]
            ),
            bookmarked=Exists(
                Bookmark.objects.filter(user=user, thread=OuterRef("pk"), post__isnull=True)
            ),
        )
        .values("level", "last_read", "bookmarked")
    )
    return Personal(
        follow_level=row["level"] or Level.NORMAL,
        last_read=row["last_read"] or 0,
        thread_bookmarked=row["bookmarked"],
    )


def post_with_thread(pk: int) -> Post | None:
    return (
        Post.objects.select_related("thread__category", "author__organisation")
        .filter(pk=pk)
        .first()
    )


def attachment_with_thread(pk: int) -> Attachment | None:
    return Attachment.objects.select_related("post__thread__category").filter(pk=pk).first()


def post_revisions(post: Post) -> QuerySet[PostRevision]:
    return post.revisions.select_related("edited_by").order_by("-created_at", "-id")


# --- Tags -------------------------------------------------------------------------------------


def tags_with_counts(user, query: str = "") -> QuerySet[Tag]:
    """Tags used on threads this person may read, with the number of those threads."""
    threads = visible_threads(user)
    tags = (
        Tag.objects.filter(
            taggit_taggeditem_items__content_type__model="thread",
            taggit_taggeditem_items__object_id__in=threads.values("pk"),
        )
        .annotate(thread_count=Count("taggit_taggeditem_items", distinct=True))
        .order_by("-thread_count", "name")
    )
    if query:
        tags = tags.filter(name__icontains=query)
    return tags


def visible_tags(user) -> QuerySet[Tag]:
    """Tags a person may know of: on a thread or a collection they may read, or followed by
    them. A tag used only in a private category (or on hidden threads) does not exist for
    others: its page, feed and search filter answer as for an unknown tag."""
    from taggit.models import TaggedItem

    from .permissions import visible_collections

    def used_on(model: str, objects: QuerySet) -> Exists:
        return Exists(
            TaggedItem.objects.filter(
                tag=OuterRef("pk"),
                content_type__app_label="forum",
                content_type__model=model,
                object_id__in=objects.values("pk"),
            )
        )

    condition = used_on("thread", visible_threads(user)) | used_on(
        "collection", visible_collections(user)
    )
    if user.is_authenticated:
        condition |= Exists(TagFollow.objects.filter(user=user, tag=OuterRef("pk")))
    return Tag.objects.filter(condition)


def tag_by_slug(slug: str, user) -> Tag | None:
    return visible_tags(user).filter(slug=slug).first()


def tag_by_name(name: str, user) -> Tag | None:
    """A tag by its name (any case) or slug, as people type it into a filter."""
    name = name.strip().lstrip("#")
    return visible_tags(user).filter(Q(name__iexact=name) | Q(slug=name.lower())).first()


def tag_follow_level(user, tag: Tag) -> str:
    if not user.is_authenticated:
        return Level.NORMAL
    return (
        TagFollow.objects.filter(user=user, tag=tag).values_list("level", flat=True).first()
        or Level.NORMAL
    )


def category_follow_level(user, category: Category) -> str:
    from .models import CategoryFollow

    if not user.is_authenticated:
        return Level.NORMAL
    return (
        CategoryFollow.objects.filter(user=user, category=category)
        .values_list("level", flat=True)
        .first()
        or Level.NORMAL
    )


def tag_suggestions(user, prefix: str, limit: int = 10) -> list[str]:
    """Existing tags starting with (or containing a word starting with) the prefix.

    Only tags on threads the person may read: a private thread's tags do not leak here.
    """
    prefix = prefix.strip()
    if not prefix:
        return []
    return list(
        tags_with_counts(user)
        .filter(Q(name__istartswith=prefix) | Q(name__icontains=f" {prefix}"))
        .order_by("name")
        .values_list("name", flat=True)[:limit]
    )


def popular_tags(user, limit: int = 30) -> list[Tag]:
    return list(tags_with_counts(user)[:limit])


# --- A person's own page ----------------------------------------------------------------------


def my_posts(user, page_number) -> Page:
    posts = (
        Post.objects.filter(author=user, is_deleted=False, thread__in=visible_threads(user))
        .select_related("thread__category")
        .order_by("-created_at", "-pk")
    )
    return Paginator(posts, THREADS_PER_PAGE).get_page(page_number)


def my_bookmarks(user, page_number) -> Page:
    bookmarks = (
        Bookmark.objects.filter(user=user, thread__in=visible_threads(user))
        .select_related("thread__category", "post")
        .order_by("-created_at", "-pk")
    )
    return Paginator(bookmarks, THREADS_PER_PAGE).get_page(page_number)


def my_follows(user) -> dict:
    """What the person watches or muted, for the settings overview (three small queries)."""
    from .models import CategoryFollow

    return {
        "threads": list(
            ThreadFollow.objects.filter(user=user, thread__in=visible_threads(user))
            .exclude(level=Level.NORMAL)
            .select_related("thread")
            .order_by("-updated_at")[:50]
        ),
        "tags": list(
            TagFollow.objects.filter(user=user).select_related("tag").order_by("tag__name")
        ),
        "categories": list(
            CategoryFollow.objects.filter(user=user, category__in=visible_categories(user))
            .select_related("category")
            .order_by("category__position")
        ),
    }


def upcoming_events(user, *, limit: int = 100) -> QuerySet[Thread]:
    """Announcements with a date from today on that this person may read."""
    from django.utils import timezone

    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        visible_threads(user)
        .filter(kind=Thread.Kind.ANNOUNCEMENT, event_start__gte=start_of_today)
        .select_related("category", "organisation")
        .order_by("event_start")[:limit]
    )
