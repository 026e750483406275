"""Tags with readable ASCII slugs ("Verfügungsfonds" → /tags/verfuegungsfonds/)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from taggit.models import Tag

from forum.text import german_slug, normalise_tag


def tags_get_or_create(names: list[str]) -> list[Tag]:
    """Existing tags by case-insensitive name (keeping their spelling), new ones created."""
    names = [n for n in (normalise_tag(n) for n in names) if n]
    existing = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lowered=Lower("name")).filter(
            lowered__in=[n.lower() for n in names]
        )
    }
    result = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            tag = _create(name)
            existing[name.lower()] = tag
        if tag not in result:
            result.append(tag)
    return result


def _create(name: str) -> Tag:
    base = german_slug(name, max_length=90)
    for i in range(1, 50):
        slug = base if i == 1 else f"{base}-{i}"
        try:
            with transaction.atomic():
                return Tag.objects.create(name=name, slug=slug)
        except IntegrityError:
            same = Tag.objects.filter(name=name).first()
            if same is not None:
                return same
    raise IntegrityError(f"no free slug for tag {name!r}")
