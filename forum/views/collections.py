"""Collections: the list, the reader view, and the moderators' curation forms."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import moderator_required
from accounts.permissions import is_moderator, needs_mfa
from forum import permissions, selectors
from forum.models import Collection, CollectionEntry, CollectionFollow
from forum.services import collections as service


@require_safe
def collection_list(request):
    # Count only chapters this reader may open (the reader view leaves out the others).
    readable = permissions.visible_threads(request.user).values("pk")
    items = (
        permissions.visible_collections(request.user)
        .annotate(chapters=Count("entries", filter=Q(entries__thread__in=readable)))
        .prefetch_related("tags")
    )
    return render(request, "forum/collection_list.html", {"collections": items})


@require_safe
def collection_detail(request, slug: str):
    collection, entries = service.collection_for_reader(request.user, slug)
    return render(
        request,
        "forum/collection_detail.html",
        {
            "collection": collection,
            "entries": entries,
            # The tools only where they work: moderators with two-factor authentication.
            "is_mod": is_moderator(request.user) and not needs_mfa(request.user),
            "statuses": Collection.Status.choices,
            "following": request.user.is_authenticated
            and CollectionFollow.objects.filter(user=request.user, collection=collection).exists(),
        },
    )


@require_POST
@login_required
def collection_follow(request, slug: str):
    collection = get_object_or_404(Collection, slug=slug)
    permissions.check_view_collection(request.user, collection)
    if service.collection_follow_toggle(request.user, collection=collection):
        messages.success(
            request,
            _(
                "Sie folgen dieser Sammlung und werden benachrichtigt, wenn sie erscheint oder "
                "ein Kapitel hinzukommt."
            ),
        )
    else:
        messages.success(request, _("Sie folgen dieser Sammlung nicht mehr."))
    return redirect(collection)


def _errors(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@moderator_required
def collection_create(request):
    values = {"title": "", "intro": "", "visibility": "public", "tags": ""}
    if request.method == "POST":
        values = {key: request.POST.get(key, default) for key, default in values.items()}
        try:
            collection = service.collection_create(
                request.user,
                title=values["title"],
                intro=values["intro"],
                visibility=values["visibility"],
                tags=[t for t in values["tags"].split(",") if t.strip()],
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Die Sammlung ist angelegt (Entwurf)."))
            return redirect(collection)
    return render(
        request,
        "forum/collection_form.html",
        {"values": values, "visibilities": Collection.Visibility.choices},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@moderator_required
def collection_status(request, slug: str):
    collection = get_object_or_404(Collection, slug=slug)
    try:
        service.collection_set_status(
            request.user, collection=collection, status=request.POST.get("status", "")
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Der Stand der Sammlung ist geändert."))
    return redirect(collection)


def _entry(pk: int) -> CollectionEntry:
    return get_object_or_404(CollectionEntry.objects.select_related("collection", "thread"), pk=pk)


@require_POST
@moderator_required
def entry_move(request, pk: int):
    entry = _entry(pk)
    service.collection_move_entry(
        request.user,
        entry=entry,
        direction="up" if request.POST.get("richtung") == "hoch" else "down",
    )
    return redirect(f"{entry.collection.get_absolute_url()}#kapitel-{entry.pk}")


@require_POST
@moderator_required
def entry_edit(request, pk: int):
    entry = _entry(pk)
    number = request.POST.get("kernbeitrag", "").strip()
    review_by = None
    if request.POST.get("pruefen_bis"):
        try:
            review_by = date.fromisoformat(request.POST["pruefen_bis"])
        except ValueError:
            messages.error(request, _("Bitte geben Sie das Prüfdatum als Datum an."))
            return redirect(entry.collection)
    try:
        service.collection_entry_update(
            request.user,
            entry=entry,
            note=request.POST.get("notiz", ""),
            key_post_number=int(number) if number.isdigit() else None,
            review_by=review_by,
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Das Kapitel ist gespeichert."))
    return redirect(f"{entry.collection.get_absolute_url()}#kapitel-{entry.pk}")


@require_POST
@moderator_required
def entry_remove(request, pk: int):
    entry = _entry(pk)
    collection = entry.collection
    service.collection_remove_entry(request.user, entry=entry)
    messages.success(request, _("Das Thema ist aus der Sammlung entfernt."))
    return redirect(collection)


@require_POST
@moderator_required
def thread_collect(request, pk: int):
    """ "Zur Sammlung hinzufügen" on the thread page."""
    thread = selectors.thread_for_page(pk)
    if thread is None:
        raise Http404
    chosen = request.POST.get("sammlung", "")
    collection = Collection.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if collection is None:
        messages.error(request, _("Bitte wählen Sie eine Sammlung."))
        return redirect(f"/t/{thread.pk}/")
    try:
        service.collection_add_thread(
            request.user, collection=collection, thread=thread, note=request.POST.get("notiz", "")
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(f"/t/{thread.pk}/")
    messages.success(
        request, _("Das Thema ist in der Sammlung „%(title)s“.") % {"title": collection.title}
    )
    return redirect(collection)
