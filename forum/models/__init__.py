from .attachments import Attachment
from .audit import AuditEntry
from .categories import Category
from .collections import Collection, CollectionEntry, CollectionFollow
from .digests import PUBLIC_SECTIONS, DigestDelivery, DigestSubscription, Section
from .following import Bookmark, CategoryFollow, Level, ReadState, TagFollow, ThreadFollow
from .moderation import Appeal, Report
from .notifications import (
    DEFAULT_CHANNELS,
    Channel,
    EmailWindow,
    Kind,
    Notification,
    NotificationPreference,
)
from .pages import AccessibilityFeedback, SitePage
from .posts import POST_MAX_LENGTH, Post, PostMention, PostMove, PostRevision, Reaction
from .search import SearchDocument
from .threads import ProjectProfile, Thread

__all__ = [
    "DEFAULT_CHANNELS",
    "POST_MAX_LENGTH",
    "PUBLIC_SECTIONS",
    "AccessibilityFeedback",
    "Appeal",
    "Attachment",
    "AuditEntry",
    "Bookmark",
    "Category",
    "CategoryFollow",
    "Channel",
    "Collection",
    "CollectionEntry",
    "CollectionFollow",
    "DigestDelivery",
    "DigestSubscription",
    "EmailWindow",
    "Kind",
    "Level",
    "Notification",
    "NotificationPreference",
    "Post",
    "PostMention",
    "PostMove",
    "PostRevision",
    "ProjectProfile",
    "Reaction",
    "ReadState",
    "Report",
    "SearchDocument",
    "Section",
    "SitePage",
    "TagFollow",
    "Thread",
    "ThreadFollow",
]
