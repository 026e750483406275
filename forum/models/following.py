"""What each person follows, bookmarks and has read.

One small table per target type with a unique (user, target) pair and an index on
(target, level): notifications and digests ask "who watches this thread/tag/category?" and
"what does this person watch?" with one indexed query each.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from .categories import Category
from .posts import Post
from .threads import Thread


class Level(models.TextChoices):
    WATCHING = "watching", _("beobachten")
    NORMAL = "normal", _("normal")
    MUTED = "muted", _("stumm")


class _Follow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(_("Stufe"), max_length=10, choices=Level.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.user_id}: {self.level}"


class ThreadFollow(_Follow):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="follows")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "thread"], name="thread_follow_once"),
        ]
        indexes = [models.Index(fields=["thread", "level"], name="thread_follow_level")]


class TagFollow(_Follow):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="tag_follow_once")]
        indexes = [models.Index(fields=["tag", "level"], name="tag_follow_level")]


class CategoryFollow(_Follow):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="follows")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="category_follow_once"),
        ]
        indexes = [models.Index(fields=["category", "level"], name="category_follow_level")]


class Bookmark(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Lesezeichen")
        verbose_name_plural = _("Lesezeichen")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "thread"],
                condition=models.Q(post__isnull=True),
                name="bookmark_thread_once",
            ),
            models.UniqueConstraint(fields=["user", "post"], name="bookmark_post_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.post or self.thread}"


class ReadState(models.Model):
    """The highest post number a person has seen in a thread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    last_read_number = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "thread"], name="read_state_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.thread_id}: {self.last_read_number}"
