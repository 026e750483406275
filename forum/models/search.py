from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from .threads import Thread


class SearchDocument(models.Model):
    """What the full-text search knows about one thread, kept by forum.search after commit.

    Only text lives here. Who may read the thread (category visibility, hidden) and what the
    filters look at (kind, organisation, solved, dates, profile) are joined from the thread at
    query time, so that moving or hiding a thread takes effect in search at once.

    Each weight class keeps the plain text (for snippets) and, separately, the compound parts
    found in it ("Brachflächenreaktivierung" → "Brachflächen Reaktivierung …"), so that phrase
    positions in the text stay intact. PostgreSQL stores the weighted ``german`` tsvector in
    ``vector`` (GIN-indexed); SQLite keeps stems in the FTS5 table ``forum_search_fts``.
    """

    thread = models.OneToOneField(
        Thread, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    # Weight A: title and tags; B: result summary and project profile; C: posts.
    title = models.TextField(blank=True)
    title_extra = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    summary_extra = models.TextField(blank=True)
    body = models.TextField(blank=True)
    body_extra = models.TextField(blank=True)
    vector = SearchVectorField(null=True, editable=False)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Suchindex-Eintrag")
        verbose_name_plural = _("Suchindex")

    def __str__(self) -> str:
        return self.title[:80]
