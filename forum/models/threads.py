from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from .categories import Category


class Thread(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", _("Frage")
        EXPERIENCE = "experience", _("Erfahrungsbericht")
        DISCUSSION = "discussion", _("Diskussion")
        ANNOUNCEMENT = "announcement", _("Ankündigung")

    category = models.ForeignKey(
        Category, verbose_name=_("Themenfeld"), on_delete=models.PROTECT, related_name="threads"
    )
    kind = models.CharField(_("Art"), max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    title = models.CharField(_("Titel"), max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verfasst von"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="threads",
    )
    # The author's organisation when the thread was started: lists filter and show it cheaply,
    # and it stays right when the author later moves to another body.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("Organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="threads",
    )
    tags = TaggableManager(verbose_name=_("Schlagwörter"), blank=True)
    created_at = models.DateTimeField(_("erstellt"), auto_now_add=True)
    # Bumped by every full save (title, kind, tags change): part of the list-row cache key.
    updated_at = models.DateTimeField(_("geändert"), auto_now=True)
    last_activity_at = models.DateTimeField(_("letzte Aktivität"), db_index=True)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    post_count = models.PositiveIntegerField(_("Beiträge"), default=0)
    # The highest post number ever given out in this thread. Numbers are never reused: posts
    # split off to another thread leave a gap, and their old links still lead to them.
    last_number = models.PositiveIntegerField(default=0)
    accepted_post = models.ForeignKey(
        "forum.Post",
        verbose_name=_("akzeptierte Antwort"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    solved_at = models.DateTimeField(_("gelöst am"), null=True, blank=True)
    summary = models.TextField(_("Ergebnis (Markdown)"), blank=True, max_length=20000)
    summary_html = models.TextField(blank=True, editable=False)
    summary_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary_at = models.DateTimeField(null=True, blank=True)
    is_locked = models.BooleanField(_("geschlossen"), default=False)
    # Pinned at the top of its category; pinned site-wide also on the start page.
    is_pinned = models.BooleanField(_("im Themenfeld angeheftet"), default=False)
    is_pinned_globally = models.BooleanField(_("überall angeheftet"), default=False)
    is_hidden = models.BooleanField(_("ausgeblendet"), default=False)
    # A new member's thread waiting for approval: only its author and the moderation see it.
    is_held = models.BooleanField(_("wartet auf Freigabe"), default=False)
    # Set when a moderator merged this thread into another: its URL redirects there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("zusammengeführt mit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    event_start = models.DateTimeField(_("Termin"), null=True, blank=True)
    event_place = models.CharField(_("Ort"), max_length=200, blank=True)
    # An open question whose author left (accounts/turnover.py): the successor accepts answers
    # and records the result as the author could, and hears of new answers.
    taken_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("übernommen von"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions_taken_over",
    )

    class Meta:
        verbose_name = _("Thema")
        verbose_name_plural = _("Themen")
        ordering = ["-last_activity_at"]
        # The lists order by (-is_pinned, -last_activity_at, -id): indexes in that order let the
        # database read the first page instead of sorting every visible thread.
        indexes = [
            models.Index(
                fields=["-is_pinned_globally", "-last_activity_at", "-id"],
                name="thread_list_order_global",
            ),
            models.Index(
                fields=["category", "-is_pinned", "-last_activity_at", "-id"],
                name="thread_category_order",
            ),
            models.Index(fields=["kind", "-last_activity_at"], name="thread_kind_activity"),
            models.Index(fields=["organisation", "-last_activity_at"], name="thread_org_activity"),
            # "Neueste Themen" sorting and the Atom feeds read newest first.
            models.Index(fields=["-created_at", "-id"], name="thread_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="announcement") | Q(event_start__isnull=True),
                name="thread_event_only_on_announcements",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forum:thread", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def is_solved(self) -> bool:
        return self.accepted_post_id is not None

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)


class ProjectProfile(models.Model):
    """The Projektsteckbrief of an experience report: typed, so that every field filters."""

    class Programme(models.TextChoices):
        LEBENDIGE_ZENTREN = "lebendige_zentren", _("Lebendige Zentren")
        SOZIALER_ZUSAMMENHALT = "sozialer_zusammenhalt", _("Sozialer Zusammenhalt")
        WACHSTUM = "wachstum_erneuerung", _("Wachstum und nachhaltige Erneuerung")
        STADTUMBAU_WEST = "stadtumbau_west", _("Stadtumbau West")
        EFRE = "efre", _("EFRE")
        LAND = "land", _("Landesprogramm")
        KOMMUNAL = "kommunal", _("kommunale Mittel")
        OTHER = "other", _("Sonstiges")

    class Status(models.TextChoices):
        PLANNED = "planned", _("geplant")
        RUNNING = "running", _("laufend")
        COMPLETED = "completed", _("abgeschlossen")
        STOPPED = "stopped", _("abgebrochen")

    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="profile")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("Organisation"),
        on_delete=models.PROTECT,
        related_name="project_profiles",
    )
    programme = models.CharField(
        _("Programm / Förderung"), max_length=32, choices=Programme.choices, db_index=True
    )
    programme_detail = models.CharField(
        _("Programm im Detail"),
        max_length=200,
        blank=True,
        help_text=_("z. B. Förderjahr, Maßnahme"),
    )
    start_month = models.DateField(_("Beginn (Monat)"), null=True, blank=True)
    end_month = models.DateField(_("Ende (Monat)"), null=True, blank=True)
    budget_eur = models.PositiveBigIntegerField(_("Budget in Euro"), null=True, blank=True)
    funding_share_pct = models.PositiveSmallIntegerField(
        _("Förderanteil in Prozent"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
    )
    status = models.CharField(
        _("Stand"), max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    partners = models.TextField(_("Partner"), blank=True, max_length=2000)
    results = models.TextField(_("Ergebnisse"), blank=True, max_length=5000)
    lessons_learned = models.TextField(_("Erkenntnisse"), blank=True, max_length=5000)
    contact = models.CharField(_("Ansprechperson"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Projektsteckbrief")
        verbose_name_plural = _("Projektsteckbriefe")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_month__isnull=True)
                | Q(start_month__isnull=True)
                | Q(end_month__gte=models.F("start_month")),
                name="profile_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(funding_share_pct__isnull=True) | Q(funding_share_pct__lte=100),
                name="profile_share_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.thread} ({self.get_programme_display()})"
