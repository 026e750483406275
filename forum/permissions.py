"""Every rule about forum content, in one place.

``can_*`` for templates, ``check_*`` raising for enforcement, ``visible_*`` for lists.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.permissions import can_act_as_member, check_not_suspended, is_moderator

from .models import Category


def visible_levels(user) -> list[str] | None:
    """The category visibilities a person may read; None means all (moderators)."""
    if is_moderator(user):
        return None
    if can_act_as_member(user):
        return [Category.Visibility.PUBLIC, Category.Visibility.MEMBERS]
    return [Category.Visibility.PUBLIC]


def visible_categories(user, qs: QuerySet[Category] | None = None) -> QuerySet[Category]:
    qs = Category.objects.all() if qs is None else qs
    levels = visible_levels(user)
    return qs if levels is None else qs.filter(visibility__in=levels)


def can_view_category(user, category: Category) -> bool:
    if category.visibility == Category.Visibility.PUBLIC:
        return True
    if category.visibility == Category.Visibility.MEMBERS:
        return can_act_as_member(user) or is_moderator(user)
    return is_moderator(user)


def is_public_category(category: Category) -> bool:
    """Readable without an account: what feeds carry and where pages announce a feed."""
    return can_view_category(AnonymousUser(), category)


def check_view_category(user, category: Category) -> None:
    # Invisible is 404: the existence of a private category does not leak.
    if not can_view_category(user, category):
        raise Http404


# --- Threads and posts ------------------------------------------------------------------------


def visible_threads(user, qs=None):
    """Threads a person may read: in categories they may see, not hidden (unless moderator)."""
    from .models import Thread

    qs = Thread.objects.all() if qs is None else qs
    levels = visible_levels(user)
    if levels is None:
        return qs
    # A join on the category's visibility (not "category IN (subquery)") lets the database
    # walk the list-order index and stop after one page.
    return qs.filter(category__visibility__in=levels, is_hidden=False, is_held=False)


def can_view_thread(user, thread) -> bool:
    if thread.is_hidden and not is_moderator(user):
        return False
    if thread.is_held and not (is_moderator(user) or _is_author(user, thread)):
        return False
    return can_view_category(user, thread.category)


def is_public_thread(thread) -> bool:
    return can_view_thread(AnonymousUser(), thread)


def check_view_thread(user, thread) -> None:
    if not can_view_thread(user, thread):
        raise Http404


def can_start_thread(user, category, kind: str | None = None) -> bool:
    from .models import Thread

    if not can_view_category(user, category):
        return False
    if kind == Thread.Kind.ANNOUNCEMENT:
        return is_moderator(user)
    return can_act_as_member(user) or is_moderator(user)


def check_start_thread(user, category, kind: str | None = None) -> None:
    check_view_category(user, category)
    if not can_start_thread(user, category, kind):
        from .models import Thread

        check_not_suspended(user)
        if kind == Thread.Kind.ANNOUNCEMENT:
            raise PermissionDenied(_("Ankündigungen schreibt die Moderation."))
        raise PermissionDenied(_("Nur bestätigte Mitglieder können Themen beginnen."))


def can_reply(user, thread) -> bool:
    if not can_view_thread(user, thread):
        return False
    if thread.is_locked and not is_moderator(user):
        return False
    return can_act_as_member(user) or is_moderator(user)


def check_reply(user, thread) -> None:
    check_view_thread(user, thread)
    if thread.is_locked and not is_moderator(user):
        raise PermissionDenied(
            _("Dieses Thema ist geschlossen; Antworten sind nicht mehr möglich.")
        )
    if not (can_act_as_member(user) or is_moderator(user)):
        check_not_suspended(user)
        raise PermissionDenied(_("Nur bestätigte Mitglieder können antworten."))


def _is_author(user, obj) -> bool:
    return bool(user.is_authenticated and obj.author_id == user.pk)


def can_edit_thread(user, thread) -> bool:
    return can_view_thread(user, thread) and (
        is_moderator(user) or (_is_author(user, thread) and can_act_as_member(user))
    )


def check_edit_thread(user, thread) -> None:
    check_view_thread(user, thread)
    if not can_edit_thread(user, thread):
        check_not_suspended(user)
        raise PermissionDenied(
            _("Nur die Verfasserin oder der Verfasser und die Moderation können das Thema ändern.")
        )


def can_edit_post(user, post) -> bool:
    if post.is_deleted or not can_view_thread(user, post.thread):
        return False
    if is_moderator(user):
        return True
    return _is_author(user, post) and can_act_as_member(user) and not post.thread.is_locked


def check_edit_post(user, post) -> None:
    check_view_thread(user, post.thread)
    if not can_edit_post(user, post):
        check_not_suspended(user)
        raise PermissionDenied(_("Sie können diesen Beitrag nicht bearbeiten."))


def can_delete_post(user, post) -> bool:
    # The first post carries the thread; it is removed with the thread by moderation.
    return can_edit_post(user, post) and not post.is_first


def check_delete_post(user, post) -> None:
    check_view_thread(user, post.thread)
    if not can_delete_post(user, post):
        check_not_suspended(user)
        raise PermissionDenied(_("Sie können diesen Beitrag nicht löschen."))


def can_restore_post(user, post) -> bool:
    return post.is_deleted and is_moderator(user)


def _owns_question(user, thread) -> bool:
    """The person who asked, or the successor who took the question over when its author left
    (accounts/turnover.py)."""
    return _is_author(user, thread) or bool(
        user.is_authenticated and thread.taken_over_by_id == user.pk
    )


def can_accept_answer(user, thread) -> bool:
    from .models import Thread

    return thread.kind == Thread.Kind.QUESTION and (
        is_moderator(user) or (_owns_question(user, thread) and can_act_as_member(user))
    )


def check_accept_answer(user, thread) -> None:
    check_view_thread(user, thread)
    if not can_accept_answer(user, thread):
        check_not_suspended(user)
        raise PermissionDenied(
            _(
                "Nur wer die Frage gestellt oder übernommen hat und die Moderation können eine "
                "Antwort akzeptieren."
            )
        )


def can_edit_summary(user, thread) -> bool:
    """Whoever may edit the thread, and the successor who took a question over: recording
    what came out of it is part of owning the question."""
    return can_edit_thread(user, thread) or (
        can_view_thread(user, thread) and _owns_question(user, thread) and can_act_as_member(user)
    )


def check_edit_summary(user, thread) -> None:
    check_view_thread(user, thread)
    if not can_edit_summary(user, thread):
        check_not_suspended(user)
        raise PermissionDenied(
            _(
                "Nur wer das Thema begonnen oder die Frage übernommen hat und die Moderation "
                "können das Ergebnis festhalten."
            )
        )


def can_react(user, post) -> bool:
    return bool(
        can_act_as_member(user)
        and not post.is_deleted
        and post.author_id != user.pk
        and can_view_thread(user, post.thread)
    )


def check_react(user, post) -> None:
    check_view_thread(user, post.thread)
    if post.author_id == getattr(user, "pk", None):
        raise PermissionDenied(_("Eigene Beiträge können Sie nicht als hilfreich markieren."))
    if not can_react(user, post):
        check_not_suspended(user)
        raise PermissionDenied(
            _("Nur bestätigte Mitglieder können Beiträge als hilfreich markieren.")
        )


def can_follow(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_act_as_member_or_mod(user) -> bool:
    return can_act_as_member(user) or is_moderator(user)


# --- Collections -----------------------------------------------------------------------------


def visible_collections(user, qs=None):
    """Published collections a person may read; moderators also see drafts."""
    from .models import Collection

    qs = Collection.objects.all() if qs is None else qs
    if is_moderator(user):
        return qs
    qs = qs.filter(status=Collection.Status.PUBLISHED)
    if can_act_as_member(user):
        return qs
    return qs.filter(visibility=Collection.Visibility.PUBLIC)


def can_view_collection(user, collection) -> bool:
    return visible_collections(user).filter(pk=collection.pk).exists()


def check_view_collection(user, collection) -> None:
    if not can_view_collection(user, collection):
        raise Http404
