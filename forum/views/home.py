from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from forum import selectors
from forum.models import Level, ProjectProfile, Thread
from forum.permissions import check_view_category
from forum.selectors import ThreadFilters
from forum.services import following


def _filters_from(request, **fixed) -> ThreadFilters:
    get = request.GET
    org = get.get("organisation", "")
    return ThreadFilters(
        kind=get.get("art", "") if get.get("art", "") in Thread.Kind.values else "",
        unanswered=get.get("unbeantwortet") == "1",
        solved=get.get("geloest", "") if get.get("geloest") in ("ja", "nein") else "",
        programme=get.get("programm", "")
        if get.get("programm") in ProjectProfile.Programme.values
        else "",
        status=get.get("stand", "") if get.get("stand") in ProjectProfile.Status.values else "",
        organisation_id=int(org) if org.isdigit() else None,
        sort=get.get("sortierung", "aktivitaet")
        if get.get("sortierung") in selectors.SORTS
        else "aktivitaet",
        **fixed,
    )


def _list_context(request, filters: ThreadFilters) -> dict:
    page = selectors.thread_list(request.user, filters, request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    return {
        "page": page,
        "filters": filters,
        "querystring": query.urlencode(),
        "kinds": Thread.Kind.choices,
        "programmes": ProjectProfile.Programme.choices,
        "statuses": ProjectProfile.Status.choices,
        "sorts": [
            ("aktivitaet", _("letzte Aktivität")),
            ("neu", _("neueste Themen")),
            ("antworten", _("meiste Antworten")),
        ],
    }


def home(request):
    context = _list_context(request, _filters_from(request))
    context["categories"] = selectors.categories_for(request.user)
    return render(request, "forum/home.html", context)


def category_list(request):
    return render(
        request, "forum/category_list.html", {"categories": selectors.categories_for(request.user)}
    )


def category_detail(request, slug: str):
    category = selectors.category_by_slug(slug)
    if category is None:
        raise Http404
    check_view_category(request.user, category)
    context = _list_context(request, _filters_from(request, category=category))
    context.update(
        category=category,
        follow_level=selectors.category_follow_level(request.user, category),
        levels=Level.choices,
    )
    return render(request, "forum/category_detail.html", context)


def tag_list(request):
    query = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "forum/tag_list.html",
        {"tags": selectors.tags_with_counts(request.user, query)[:300], "query": query},
    )


def tag_detail(request, slug: str):
    tag = selectors.tag_by_slug(slug, request.user)
    if tag is None:
        raise Http404
    context = _list_context(request, _filters_from(request, tag=tag))
    context.update(
        tag=tag, follow_level=selectors.tag_follow_level(request.user, tag), levels=Level.choices
    )
    return render(request, "forum/tag_detail.html", context)


def tag_suggest(request):
    """Existing tags for the composer's suggestions (JSON; the form works without it)."""
    return JsonResponse(
        {"tags": selectors.tag_suggestions(request.user, request.GET.get("q", "")[:50])}
    )


@require_POST
@login_required
def tag_follow(request, slug: str):
    tag = selectors.tag_by_slug(slug, request.user)
    if tag is None:
        raise Http404
    level = request.POST.get("level", "")
    if level in Level.values:
        following.follow_set(request.user, target=tag, level=level)
        messages.success(request, _("Gespeichert: %(level)s.") % {"level": Level(level).label})
    return redirect("forum:tag", slug=tag.slug)


@require_POST
@login_required
def category_follow(request, slug: str):
    category = selectors.category_by_slug(slug)
    if category is None:
        raise Http404
    check_view_category(request.user, category)
    level = request.POST.get("level", "")
    if level in Level.values:
        following.follow_set(request.user, target=category, level=level)
        messages.success(request, _("Gespeichert: %(level)s.") % {"level": Level(level).label})
    return redirect(category)
