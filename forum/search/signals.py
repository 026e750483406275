"""Re-indexing follows every change of what a thread's document holds (STYLE: signals are for
infrastructure such as re-indexing). Services need not remember it, and moderation actions
added later (move, hide, delete) are covered as well."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save
from taggit.models import TaggedItem

from forum.models import Post, ProjectProfile, Thread

from .documents import schedule_index


def _thread_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        schedule_index(instance.pk)


def _part_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        schedule_index(instance.thread_id)


def _tagging_changed(sender, instance, raw=False, **kwargs):
    if not raw and instance.content_type_id == ContentType.objects.get_for_model(Thread).pk:
        schedule_index(instance.object_id)


def connect() -> None:
    post_save.connect(_thread_changed, sender=Thread, dispatch_uid="search_thread")
    for model in (Post, ProjectProfile):
        post_save.connect(_part_changed, sender=model, dispatch_uid=f"search_{model.__name__}")
        post_delete.connect(
            _part_changed, sender=model, dispatch_uid=f"search_del_{model.__name__}"
        )
    post_save.connect(_tagging_changed, sender=TaggedItem, dispatch_uid="search_tag")
    post_delete.connect(_tagging_changed, sender=TaggedItem, dispatch_uid="search_tag_del")
