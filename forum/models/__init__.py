from .audit import AuditEntry
from .categories import Category
from .pages import AccessibilityFeedback, SitePage

__all__ = ["AccessibilityFeedback", "AuditEntry", "Category", "SitePage"]
