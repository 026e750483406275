"""Erasure of an account (GDPR Art. 17): anonymise, keep the authorship, record it.

``erase_account`` keeps the user row, so that posts, threads, revisions, reactions and
moderation history keep an author and the threads keep their meaning, but nothing on it says
who the person was any more: the display name becomes "ehemaliges Mitglied", the e-mail
address and the handle are replaced by placeholders derived from the pseudonym, the password
is unusable, the profile is empty and the account inactive (inactive accounts have no
profile page, are not in the directory, get no mention suggestions, notifications or mails).

Removed with the person: their e-mail addresses (allauth), second factors, social accounts and
user sessions where installed, their sessions in the database (and in the cache, for
``cached_db``), follows, bookmarks, read states, notification settings, notifications to them,
open e-mail windows, their digest subscription and public digest subscriptions of their
addresses, invitations sent to their addresses, queued or finished tasks whose arguments
carry their address (mails to them), accepted terms, the contact address they left with
accessibility feedback.

Redacted (replaced by "[gelöscht]") in everything the forum keeps for others:

- their e-mail addresses in every free text (posts and their revisions, results, project
  profiles, reports, appeals, notifications' reasons, invitation messages, accessibility
  feedback, moderation notes, attachment names, the admin's history);
- ``@handle`` mentions and quote headers in anyone's posts now read "ehemaliges Mitglied";
- the project profiles' contact person ("Ansprechperson") loses their name and handle too;
- the audit log: entries they made are labelled "ehemaliges Mitglied (P-…)" (the pseudonym,
  ``AuditEntry.actor_ref``, stays for accountability), and their name, handle and addresses
  are redacted inside every entry's labels, values and reasons;
- cached post and list-row fragments that showed them are dropped after the commit.

The placeholder name is stored in German (the forum's language); the author line, which
checks ``is_active``, shows the translated label.

Deliberately kept: the text of their own posts, reports and appeals (the threads and the
moderation record stay coherent; only addresses are taken out); their name where *other*
people wrote it in free prose (no reliable way to tell "Anna Schmidt" the person from the
same words meaning something else, and rewriting others' words is not ours to do).
Sessions of non-database session engines cannot be listed; they end anyway because the
password hash, which every session is bound to, changes. The database holds no IP addresses
(allauth's usersessions, which would, is not installed; its rows go if it ever is); the web
server's access logs are the operator's to rotate. Names shorter than three characters are
not searched for (they would match inside ordinary words).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Invitation, TermsAcceptance, User

ERASED_NAME = "ehemaliges Mitglied"  # stored; templates show the translated label
ERASED_LABEL = gettext_lazy("ehemaliges Mitglied")
REDACTED = "[gelöscht]"
EMAIL_DOMAIN = "geloescht.invalid"  # .invalid never resolves (RFC 2606): no mail can leave


class ErasureRefused(PermissionDenied):
    """The account may not be erased (now); the message says why, in German."""


def erased_handle(user: User) -> str:
    return f"geloescht-{user.pseudonym.lower()}"


def erased_email(user: User) -> str:
    return f"{erased_handle(user)}@{EMAIL_DOMAIN}"


def erased_actor_label(pseudonym: str) -> str:
    return f"{ERASED_NAME} ({pseudonym})"


# --- permissions -----------------------------------------------------------------------------


def _holders_of(codename: str) -> Q:
    perm = Permission.objects.filter(codename=codename, content_type__app_label="accounts")
    return Q(is_superuser=True) | Q(user_permissions__in=perm) | Q(groups__permissions__in=perm)


def last_of_a_role(user: User) -> str:
    """Why ``user`` may not go now (the last active moderator or operator), or ""."""
    others = User.objects.filter(is_active=True, erased_at__isnull=True).exclude(pk=user.pk)
    if (
        user.is_active
        and user.has_perm("accounts.moderate")
        and not others.filter(_holders_of("moderate")).exists()
    ):
        return _(
            "Sie sind die letzte Person mit Moderationsrechten. Bitte geben Sie die "
            "Moderation zuerst an jemand anderen ab, dann können Sie Ihr Konto löschen."
        )
    if user.is_active and user.is_staff and not others.filter(is_staff=True).exists():
        return _(
            "Sie sind die letzte Person mit Zugang zur Verwaltung (Betrieb). Bitte "
            "richten Sie zuerst ein weiteres Betriebskonto ein."
        )
    return ""


def check_erase(actor: User | None, user: User) -> None:
    """The person themselves, an operator, or the system (``actor`` None, retention) may
    erase an account; never the last moderator or operator, so the forum stays run."""
    if actor is not None and actor.pk != user.pk and not (actor.is_active and actor.is_staff):
        raise ErasureRefused(_("Sie dürfen dieses Konto nicht löschen."))
    reason = last_of_a_role(user)
    if reason:
        raise ErasureRefused(reason)


# --- redaction -------------------------------------------------------------------------------


def _pattern(terms: Iterable[str]) -> re.Pattern | None:
    """One case-insensitive pattern for the terms, longest first, not inside other words."""
    terms = sorted({t for t in terms if t and len(t) >= 3}, key=len, reverse=True)
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in terms)
    return re.compile(rf"(?<![\w.+-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def _redact(value, pattern: re.Pattern):
    """``value`` (a string or anything JSON) with every match replaced."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {_redact(k, pattern): _redact(v, pattern) for k, v in value.items()}
    return value


def _json_forms(term: str) -> set[str]:
    # On SQLite a JSON column stores non-ASCII characters escaped ("J\u00fcrgen").
    return {term, json.dumps(term)[1:-1]}


def _rows_containing(model, fields: list[str], terms: Iterable[str], extra: Q | None = None):
    query = Q()
    for field in fields:
        json_field = isinstance(model._meta.get_field(field), models.JSONField)
        for term in terms:
            for form in _json_forms(term) if json_field else {term}:
                query |= Q(**{f"{field}__icontains": form})
    if extra is not None:
        query |= extra
    return model.objects.filter(query)


def _redact_rows(
    model, fields: list[str], terms: list[str], pattern, posts: set[int] | None = None
) -> set[int]:
    """Redact the terms in these fields of every row holding one; two queries at most.
    Returns the thread ids of changed rows, if the model has a thread; adds the ids of
    changed posts to ``posts``."""
    changed = []
    for row in _rows_containing(model, fields, terms):
        before = [getattr(row, f) for f in fields]
        for field in fields:
            setattr(row, field, _redact(getattr(row, field), pattern))
        if [getattr(row, f) for f in fields] != before:
            changed.append(row)
    if changed:
        model.objects.bulk_update(changed, fields, batch_size=200)
    if posts is not None and model._meta.label == "forum.Post":
        posts.update(row.pk for row in changed)
    return _thread_ids(model, changed)


def _thread_ids(model, rows) -> set[int]:
    """The threads whose search document may hold these rows' text."""
    if model._meta.label == "forum.Thread":
        return {row.pk for row in rows}
    if model._meta.label in ("forum.Post", "forum.ProjectProfile"):
        return {row.thread_id for row in rows}
    return set()


def _unmention_rows(model, handle: str, posts: set[int] | None = None) -> set[int]:
    """``@handle`` (and its profile link) in anyone's post now reads "ehemaliges Mitglied"."""
    link = re.compile(
        rf'<a class="mention" href="/u/{re.escape(handle)}/">@{re.escape(handle)}</a>',
        re.IGNORECASE,
    )
    bare = re.compile(rf"@{re.escape(handle)}(?![\w-])", re.IGNORECASE)
    changed = []
    for row in model.objects.filter(body__icontains=f"@{handle}"):
        row.body = bare.sub(ERASED_NAME, row.body)
        row.body_html = bare.sub(ERASED_NAME, link.sub(ERASED_NAME, row.body_html))
        changed.append(row)
    if changed:
        model.objects.bulk_update(changed, ["body", "body_html"], batch_size=200)
    if posts is not None:
        posts.update(row.pk for row in changed)
    return _thread_ids(model, changed)


# Free text anyone may have typed an address into: (app label, model, fields).
FREE_TEXT = [
    ("forum", "Post", ["body", "body_html"]),
    ("forum", "PostRevision", ["body", "body_html"]),
    ("forum", "Thread", ["title", "summary", "summary_html", "event_place"]),
    ("forum", "ProjectProfile", ["partners", "results", "lessons_learned", "contact"]),
    ("forum", "Report", ["text"]),
    ("forum", "Appeal", ["text"]),
    ("forum", "Notification", ["reason", "data"]),
    ("forum", "CollectionEntry", ["note", "note_html"]),
    ("forum", "Collection", ["intro", "intro_html"]),
    ("forum", "AccessibilityFeedback", ["message", "contact_email", "page_url"]),
    ("accounts", "Invitation", ["message"]),
    ("accounts", "User", ["membership_note", "suspension_reason", "bio"]),
    ("forum", "DigestDelivery", ["error"]),
    ("forum", "Attachment", ["original_name", "alt_text"]),
    # The admin's history names objects by their __str__ (an invitation shows its address).
    ("admin", "LogEntry", ["object_repr", "change_message"]),
]


# --- sessions --------------------------------------------------------------------------------


def _end_sessions(user: User) -> int:
    """Delete the person's stored sessions; the engine's store decides where they live."""
    from importlib import import_module

    engine = settings.SESSION_ENGINE
    if engine not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0  # not listable; they fail the session hash check from now on
    from django.contrib.sessions.models import Session

    store = import_module(engine).SessionStore
    # The table has no user column: every session is decoded (expired ones too, which keep
    # the id until clearsessions runs). One query, read in chunks.
    mine = [
        session.session_key
        for session in Session.objects.only("session_key", "session_data").iterator(2000)
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    for key in mine:
        store(session_key=key).delete()  # cached_db: cache entry and row
    return len(mine)


# --- the service -----------------------------------------------------------------------------


def erase_account(user: User, *, actor: User | None = None, reason: str = "") -> User:
    """Anonymise ``user`` and remove their personal data, in one transaction.

    ``actor`` is the person themselves (self-service), an operator, or None (the system:
    retention). Erasing an erased account does nothing. Raises ErasureRefused for the last
    moderator or operator and for actors without the right.
    """
    from forum.models import AuditEntry
    from forum.services.audit import audit_record

    check_erase(actor, user)
    with transaction.atomic():
        if user.is_staff or user.has_perm("accounts.moderate"):
            # Two moderators leaving at once must not both pass as "not the last one": lock
            # every holder of the roles (in one order, so two erasures cannot deadlock).
            holders = User.objects.filter(_holders_of("moderate") | Q(is_staff=True))
            list(
                User.objects.select_for_update()
                .filter(pk__in=holders.values("pk"))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.erased_at is not None:
            return user
        check_erase(actor, user)  # again, under the lock
        pseudonym = user.pseudonym
        addresses = {user.email.lower()}
        addresses |= _emails_of(user)
        names = {user.display_name.strip()} - {""}
        handle = user.handle
        touched_threads: set[int] = set()

        # Cached fragments that show their name (their posts, list rows they posted last).
        stale_fragments = _fragment_keys(Q(author=user), Q(last_poster=user))
        _remove_personal_rows(user, addresses)
        _end_sessions(user)

        # Mentions and quotes of them, in anyone's posts and in the earlier versions.
        from forum.models import Post, PostRevision

        rewritten: set[int] = set()
        touched_threads |= _unmention_rows(Post, handle, rewritten)
        _unmention_rows(PostRevision, handle)

        # Their addresses out of every free text, and the contact person in profiles.
        email_pattern = _pattern(addresses)
        for app_label, model_name, fields in FREE_TEXT:
            model = apps.get_model(app_label, model_name)
            touched_threads |= _redact_rows(
                model, fields, sorted(addresses), email_pattern, rewritten
            )
        # A post's fragment key does not contain its text (edits bump edited_at): the
        # rewritten posts' fragments must go explicitly.
        stale_fragments += _fragment_keys(Q(pk__in=rewritten), None)
        from forum.models import ProjectProfile

        person = sorted(addresses | names | {handle})
        touched_threads |= _redact_rows(ProjectProfile, ["contact"], person, _pattern(person))
        _forget_profile(user)

        actor_is_self = actor is not None and actor.pk == user.pk
        entry = audit_record(
            None if actor_is_self else actor,
            action="member.erased",
            target=user,
            target_label=erased_actor_label(pseudonym),
            reason=reason,
        )
        if actor_is_self:
            AuditEntry.objects.filter(pk=entry.pk).update(actor=user, actor_ref=pseudonym)
        _redact_audit(user, pseudonym, person)
        _redact_admin_log(user, pseudonym)

        from forum.search.documents import schedule_index

        for thread_id in sorted(touched_threads):
            schedule_index(thread_id)
        transaction.on_commit(lambda: cache.delete_many(stale_fragments), robust=True)
        return user


def _fragment_keys(posts: Q, rows: Q | None) -> list[str]:
    """The cache keys under which forum/fragments.py may hold these posts' content and these
    threads' list rows, in every language and variant; two or three queries."""
    from forum import fragments
    from forum.models import Post, Thread

    languages = [code for code, _name in settings.LANGUAGES]
    keys = []
    selected = (
        Post.objects.filter(posts)
        .select_related("thread", "author__organisation")
        .prefetch_related("attachments")
    )
    for post in selected:
        for accepted in (False, True):
            for show_hidden in (False, True):
                # The same fingerprint the page uses (forum/fragments.py).
                print_ = fragments._fingerprint(post, accepted=accepted, show_hidden=show_hidden)
                keys += [f"post-content:{language}:{print_}" for language in languages]
    if rows is not None:
        threads = Thread.objects.filter(rows).select_related(
            "category", "organisation", "last_poster", "profile"
        )
        for thread in threads:
            print_ = fragments._row_fingerprint(thread)
            keys += [f"thread-row:{language}:{print_}" for language in languages]
    return keys


def _emails_of(user: User) -> set[str]:
    from allauth.account.models import EmailAddress

    return {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }


def _remove_personal_rows(user: User, addresses: set[str]) -> None:
    from allauth.account.models import EmailAddress
    from django_tasks_db.models import DBTaskResult

    from forum.models import (
        AccessibilityFeedback,
        Bookmark,
        CategoryFollow,
        CollectionFollow,
        DigestSubscription,
        EmailWindow,
        Notification,
        NotificationPreference,
        ReadState,
        TagFollow,
        ThreadFollow,
    )

    EmailAddress.objects.filter(user=user).delete()  # and their confirmations
    if apps.is_installed("allauth.mfa"):
        apps.get_model("mfa", "Authenticator").objects.filter(user=user).delete()
    if apps.is_installed("allauth.socialaccount"):
        apps.get_model("socialaccount", "SocialAccount").objects.filter(user=user).delete()
    if apps.is_installed("allauth.usersessions"):  # IP addresses and user agents
        apps.get_model("usersessions", "UserSession").objects.filter(user=user).delete()
    for model in (
        ThreadFollow,
        TagFollow,
        CategoryFollow,
        CollectionFollow,
        Bookmark,
        ReadState,
        NotificationPreference,
    ):
        model.objects.filter(user=user).delete()
    EmailWindow.objects.filter(recipient=user).delete()
    Notification.objects.filter(recipient=user).delete()
    address_q = Q()
    for address in addresses:
        address_q |= Q(email__iexact=address)
    DigestSubscription.objects.filter(Q(user=user) | (Q(user__isnull=True) & address_q)).delete()
    Invitation.objects.filter(address_q).delete()
    TermsAcceptance.objects.filter(user=user).delete()
    contact_q = Q()
    for address in addresses:
        contact_q |= Q(contact_email__iexact=address)
    AccessibilityFeedback.objects.filter(Q(user=user) | contact_q).update(contact_email="")
    # Mails to them that wait, failed or were sent: their arguments carry the address.
    task_q = Q()
    for address in addresses:
        task_q |= Q(args_kwargs__icontains=address) | Q(return_value__icontains=address)
        task_q |= Q(traceback__icontains=address)
    DBTaskResult.objects.filter(task_q).delete()


def _forget_profile(user: User) -> None:
    User.objects.filter(deputy=user).update(deputy=None, deputy_until=None)
    User.objects.filter(successor=user).update(successor=None)
    user.expertise.clear()
    user.groups.clear()
    user.user_permissions.clear()
    user.email = erased_email(user)
    user.handle = erased_handle(user)
    user.display_name = ERASED_NAME
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.organisation = None
    user.suggested_organisation = None
    user.job_title = ""
    user.bio = ""
    user.work_phone = ""
    user.show_contact = False
    user.membership_note = ""
    user.suspension_reason = ""
    user.deputy = None
    user.deputy_until = None
    user.successor = None
    user.retention_warned_at = None
    user.last_login = None
    user.erased_at = timezone.now()
    user.save()


def _redact_audit(user: User, pseudonym: str, person: list[str]) -> None:
    from forum.models import AuditEntry

    pattern = _pattern(person)
    fields = ["actor_label", "target_label", "old_value", "new_value", "reason"]
    rows = _rows_containing(
        AuditEntry,
        fields,
        person,
        extra=Q(actor=user)
        | Q(actor_ref=pseudonym)
        | Q(target_type="accounts.user", target_id=str(user.pk)),
    )
    changed = []
    for entry in rows:
        if entry.actor_id == user.pk or (entry.actor_ref and entry.actor_ref == pseudonym):
            entry.actor_label = erased_actor_label(pseudonym)
            entry.actor_ref = pseudonym
        if entry.target_type == "accounts.user" and entry.target_id == str(user.pk):
            entry.target_label = erased_actor_label(pseudonym)
        for field in fields:
            setattr(entry, field, _redact(getattr(entry, field), pattern))
        changed.append(entry)
    if changed:
        AuditEntry.objects.bulk_update(changed, [*fields, "actor_ref"], batch_size=200)


def _redact_admin_log(user: User, pseudonym: str) -> None:
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=erased_actor_label(pseudonym))
