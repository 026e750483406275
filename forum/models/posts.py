from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .threads import Thread

POST_MAX_LENGTH = 30000


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    # The post's number within its thread: the stable anchor #post-<n>.
    number = models.PositiveIntegerField(_("Nummer"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Verfasst von"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="posts",
    )
    body = models.TextField(_("Text (Markdown)"), max_length=POST_MAX_LENGTH)
    body_html = models.TextField(editable=False)
    created_at = models.DateTimeField(_("geschrieben"), auto_now_add=True)
    edited_at = models.DateTimeField(_("bearbeitet"), null=True, blank=True)
    edit_count = models.PositiveIntegerField(default=0)
    is_deleted = models.BooleanField(_("gelöscht"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_hidden = models.BooleanField(_("ausgeblendet"), default=False)
    # A new member's post waiting for approval: only its author and the moderation see it.
    is_held = models.BooleanField(_("wartet auf Freigabe"), default=False)
    helpful_count = models.PositiveIntegerField(_("hilfreich"), default=0)
    # Set when a file is attached: pages load attachments only for the posts that have some.
    has_attachments = models.BooleanField(default=False)
    # A token from the composer: pressing "Absenden" twice creates one post, not two.
    client_token = models.UUIDField(default=uuid.uuid4, editable=False)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in", through="PostMention"
    )

    class Meta:
        verbose_name = _("Beitrag")
        verbose_name_plural = _("Beiträge")
        ordering = ["thread", "number"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "number"], name="post_number_unique"),
            models.UniqueConstraint(fields=["author", "client_token"], name="post_submitted_once"),
        ]
        indexes = [models.Index(fields=["author", "-created_at"], name="post_author_recent")]

    def __str__(self) -> str:
        return f"{self.thread} #{self.number}"

    def get_absolute_url(self) -> str:
        from forum.selectors import POSTS_PER_PAGE

        page = (self.number - 1) // POSTS_PER_PAGE + 1
        suffix = f"?seite={page}" if page > 1 else ""
        return f"{self.thread.get_absolute_url()}{suffix}#post-{self.number}"

    @property
    def is_first(self) -> bool:
        return self.number == 1


class PostMention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="mention_once_per_post"),
        ]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.post_id}"


class PostMove(models.Model):
    """Where a post stood before a moderator split or merged threads: old links still work."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="moves")
    old_thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    old_number = models.PositiveIntegerField()
    moved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Verschiebung")
        verbose_name_plural = _("Verschiebungen")
        constraints = [
            models.UniqueConstraint(fields=["old_thread", "old_number"], name="post_move_once"),
        ]

    def __str__(self) -> str:
        return f"{self.old_thread_id}#{self.old_number} → {self.post_id}"


class PostRevision(models.Model):
    """The text a post had before an edit: the history stays viewable."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    body_html = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Fassung")
        verbose_name_plural = _("Fassungen")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.post} ({self.created_at:%Y-%m-%d %H:%M})"


class Reaction(models.Model):
    """ "Hilfreich" on a post: one per person, never on one's own post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Reaktion")
        verbose_name_plural = _("Reaktionen")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.post}"
