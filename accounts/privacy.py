"""Privacy: the self-service data export (GDPR Art. 15 and 20).

``export_build`` writes everything the forum holds about one person into a ZIP archive: a
``daten.json`` for machines, a ``LIESMICH.txt`` for people and the person's attachments under
``anhaenge/``. The archive is written into an anonymous temporary file, never into memory, and
the long lists (posts, notifications, read states) are read in chunks, so that a large export
costs disk, not RAM. Every list is one query (plus its prefetches per chunk of
``CHUNK_SIZE`` rows), however many rows it has.

Deletion and anonymisation: accounts/erasure.py; retention: accounts/retention.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from accounts.models import Invitation, TermsAcceptance, User
from forum.models import (
    AccessibilityFeedback,
    Appeal,
    Attachment,
    AuditEntry,
    Bookmark,
    CategoryFollow,
    CollectionFollow,
    DigestSubscription,
    Notification,
    NotificationPreference,
    Post,
    PostMention,
    Reaction,
    ReadState,
    Report,
    TagFollow,
    Thread,
    ThreadFollow,
)
from forum.uploads import safe_filename

FORMAT_VERSION = 1
CHUNK_SIZE = 500
ATTACHMENT_DIR = "anhaenge"

# Mild limit: an export reads every row a person has, and a script should not loop on it.
EXPORTS_PER_HOUR = 5

README = """\
Ihre Daten aus dem Forum
========================

Dieses Archiv enthält alle Daten, die das Forum über Ihr Konto gespeichert hat
(Auskunft nach Art. 15 DSGVO, Datenübertragbarkeit nach Art. 20 DSGVO).
Erstellt am {created} für @{handle}.

daten.json
    Alle Angaben in einem maschinenlesbaren Format (JSON, UTF-8): Ihr Profil,
    Ihre Zustimmungen zu den Nutzungsbedingungen, Ihre Beiträge mit allen
    früheren Fassungen, die Themen, die Sie begonnen haben (mit Projektsteckbrief
    und Ergebnis), Ihre „Hilfreich“-Markierungen, was Sie beobachten, Ihre
    Lesezeichen und Lesestände, Ihre Benachrichtigungen und deren Einstellungen,
    Ihr Abo der E-Mail-Zusammenfassung, Ihre Meldungen und Einsprüche sowie die
    Angaben zu Ihren Anhängen. Zeitangaben stehen in UTC (ISO 8601).

anhaenge/
    Die Dateien, die Sie an Beiträge angehängt haben, jeweils als
    „<Nummer>-<Dateiname>“. Die Nummer finden Sie in daten.json unter „anhaenge“.

Nicht enthalten sind Passwörter, Sicherheitsschlüssel und geheime Links
(zum Beispiel der Abmeldelink der E-Mail-Zusammenfassung), sowie Beiträge
anderer Personen; von diesen stehen nur Titel und Nummern dort, wo Sie darauf
reagiert oder ihnen gefolgt sind.
"""


def export_allowed(user: User) -> bool:
    """Count an export attempt; False beyond ``EXPORTS_PER_HOUR`` in the current hour."""
    key = f"privacy:export:{user.pk}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= EXPORTS_PER_HOUR


def export_filename(user: User, *, today: date | None = None) -> str:
    today = today or timezone.localdate()
    return f"forum-daten-{user.handle}-{today:%Y-%m-%d}.zip"


def export_build(user: User) -> IO[bytes]:
    """The person's archive in an anonymous temporary file, positioned at its start.

    Pure read. The caller closes the file (FileResponse does); closing deletes it.
    """
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        export_write(user, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def export_write(user: User, out: IO[bytes]) -> None:
    """Write the archive for ``user`` into the binary file ``out``."""
    user = User.objects.select_related("organisation", "suggested_organisation").get(pk=user.pk)
    created = timezone.now()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Files first: their entries in daten.json say whether each file was found.
        attachments = _write_attachments(archive, user)
        sections: dict[str, Any] = {
            "format": {"version": FORMAT_VERSION, "erstellt": created},
            "profil": _profile(user),
            "email_adressen": _email_addresses(user),
            "nutzungsbedingungen": _terms(user),
            "beitraege": _posts(user),
            "themen": _threads(user),
            "ergebnisse_verfasst": _summaries(user),
            "hilfreich_markiert": _reactions(user),
            "erwaehnungen": _mentions(user),
            "folgen": _follows(user),
            "lesezeichen": _bookmarks(user),
            "lesestaende": _read_states(user),
            "benachrichtigungseinstellungen": _notification_preferences(user),
            "benachrichtigungen": _notifications(user),
            "email_zusammenfassung": _digest(user),
            "meldungen": _reports(user),
            "einsprueche": _appeals(user),
            "anhaenge": attachments,
            "rueckmeldungen_barrierefreiheit": _accessibility_feedback(user),
            "einladungen": _invitations(user),
            "protokoll_eigene_handlungen": _audit_as_actor(user),
        }
        with archive.open("daten.json", "w", force_zip64=True) as raw:
            _write_json(raw, sections)
        archive.writestr(
            "LIESMICH.txt",
            README.format(created=f"{created:%Y-%m-%d %H:%M} UTC", handle=user.handle),
        )


# --- JSON written piece by piece, so long lists never sit in memory as one string ---------


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _write_json(raw: IO[bytes], sections: dict[str, Any]) -> None:
    def put(text: str) -> None:
        raw.write(text.encode())

    put("{\n")
    for index, (key, value) in enumerate(sections.items()):
        put(("," if index else "") + f"\n  {_dumps(key)}: ")
        if isinstance(value, Iterator):
            put("[")
            for n, item in enumerate(value):
                put(("," if n else "") + "\n    " + _dumps(item))
            put("\n  ]")
        else:
            put(_dumps(value))
    put("\n}\n")


# --- Sections ----------------------------------------------------------------------------


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "benutzername": user.handle,
        "anzeigename": user.display_name,
        "organisation": _organisation(user.organisation),
        "vorgeschlagene_organisation": _organisation(user.suggested_organisation),
        "einheit_funktion": user.job_title,
        "kurzprofil": user.bio,
        "telefon_dienstlich": user.work_phone,
        "kontakt_fuer_mitglieder_sichtbar": user.show_contact,
        "fachgebiete": sorted(user.expertise.names()),
        "mitgliedschaft": user.membership,
        "mitgliedschaft_hinweis": user.membership_note,
        "mitgliedschaft_geaendert": user.membership_changed_at,
        "gesperrt_seit": user.suspended_at,
        "gesperrt_bis": user.suspended_until,
        "sperre_begruendung": user.suspension_reason,
        "aktiv": user.is_active,
        "betrieb": user.is_staff,
        "registriert": user.date_joined,
        "letzte_anmeldung": user.last_login,
    }


def _organisation(organisation) -> dict[str, Any] | None:
    if organisation is None:
        return None
    return {"kuerzel": organisation.slug, "name": organisation.name}


def _email_addresses(user: User) -> list[dict[str, Any]]:
    return [
        {"email": a.email, "bestaetigt": a.verified, "primaer": a.primary}
        for a in EmailAddress.objects.filter(user=user).order_by("pk")
    ]


def _terms(user: User) -> list[dict[str, Any]]:
    rows = TermsAcceptance.objects.filter(user=user).select_related("terms").order_by("accepted_at")
    return [
        {"version": a.terms.version, "titel": a.terms.title, "zugestimmt": a.accepted_at}
        for a in rows
    ]


def _chunked(queryset) -> Iterable:
    return queryset.iterator(chunk_size=CHUNK_SIZE)


def _posts(user: User) -> Iterator[dict[str, Any]]:
    posts = (
        Post.objects.filter(author=user)
        .select_related("thread")
        .prefetch_related("revisions", "attachments")
        .order_by("created_at", "pk")
    )
    for post in _chunked(posts):
        yield {
            "id": post.pk,
            "thema_id": post.thread_id,
            "thema_titel": post.thread.title,
            "nummer": post.number,
            "geschrieben": post.created_at,
            "bearbeitet": post.edited_at,
            "anzahl_bearbeitungen": post.edit_count,
            "text_markdown": post.body,
            "geloescht": post.is_deleted,
            "geloescht_am": post.deleted_at,
            "ausgeblendet": post.is_hidden,
            "wartet_auf_freigabe": post.is_held,
            "hilfreich_anzahl": post.helpful_count,
            "anhaenge": [a.pk for a in post.attachments.all()],
            # Oldest first: the text each edit replaced.
            "fruehere_fassungen": [
                {
                    "text_markdown": r.body,
                    "ersetzt_am": r.created_at,
                    "von_ihnen_bearbeitet": r.edited_by_id == user.pk,
                }
                for r in sorted(post.revisions.all(), key=lambda r: (r.created_at, r.pk))
            ],
        }


def _profile_data(profile) -> dict[str, Any]:
    return {
        "organisation": _organisation(profile.organisation),
        "programm": profile.programme,
        "programm_detail": profile.programme_detail,
        "beginn": profile.start_month,
        "ende": profile.end_month,
        "budget_eur": profile.budget_eur,
        "foerderanteil_prozent": profile.funding_share_pct,
        "stand": profile.status,
        "partner": profile.partners,
        "ergebnisse": profile.results,
        "erkenntnisse": profile.lessons_learned,
        "ansprechperson": profile.contact,
    }


def _threads(user: User) -> list[dict[str, Any]]:
    threads = (
        Thread.objects.filter(author=user)
        .select_related("category", "organisation", "profile__organisation")
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )
    result = []
    for thread in threads:
        profile = getattr(thread, "profile", None)
        result.append(
            {
                "id": thread.pk,
                "titel": thread.title,
                "art": thread.kind,
                "themenfeld": thread.category.name,
                "organisation": _organisation(thread.organisation),
                "schlagwoerter": sorted(t.name for t in thread.tags.all()),
                "erstellt": thread.created_at,
                "geloest_am": thread.solved_at,
                "termin": thread.event_start,
                "ort": thread.event_place,
                "ausgeblendet": thread.is_hidden,
                "wartet_auf_freigabe": thread.is_held,
                "ergebnis_markdown": thread.summary if thread.summary_by_id == user.pk else "",
                "projektsteckbrief": _profile_data(profile) if profile is not None else None,
            }
        )
    return result


def _summaries(user: User) -> list[dict[str, Any]]:
    """Results the person wrote into threads somebody else started."""
    threads = Thread.objects.filter(summary_by=user).exclude(author=user).order_by("pk")
    return [
        {
            "thema_id": t.pk,
            "thema_titel": t.title,
            "ergebnis_markdown": t.summary,
            "am": t.summary_at,
        }
        for t in threads
    ]


def _reactions(user: User) -> list[dict[str, Any]]:
    rows = Reaction.objects.filter(user=user).select_related("post__thread").order_by("created_at")
    return [
        {
            "beitrag_id": r.post_id,
            "thema_id": r.post.thread_id,
            "thema_titel": r.post.thread.title,
            "nummer": r.post.number,
            "am": r.created_at,
        }
        for r in rows
    ]


def _mentions(user: User) -> list[dict[str, Any]]:
    rows = PostMention.objects.filter(user=user).select_related("post__thread").order_by("pk")
    return [
        {
            "beitrag_id": m.post_id,
            "thema_id": m.post.thread_id,
            "thema_titel": m.post.thread.title,
            "nummer": m.post.number,
        }
        for m in rows
    ]


def _follows(user: User) -> dict[str, list[dict[str, Any]]]:
    return {
        "themen": [
            {
                "thema_id": f.thread_id,
                "titel": f.thread.title,
                "stufe": f.level,
                "seit": f.updated_at,
            }
            for f in ThreadFollow.objects.filter(user=user).select_related("thread").order_by("pk")
        ],
        "schlagwoerter": [
            {"schlagwort": f.tag.name, "stufe": f.level, "seit": f.updated_at}
            for f in TagFollow.objects.filter(user=user).select_related("tag").order_by("pk")
        ],
        "themenfelder": [
            {"themenfeld": f.category.name, "stufe": f.level, "seit": f.updated_at}
            for f in CategoryFollow.objects.filter(user=user)
            .select_related("category")
            .order_by("pk")
        ],
        "sammlungen": [
            {"sammlung": f.collection.title, "seit": f.created_at}
            for f in CollectionFollow.objects.filter(user=user)
            .select_related("collection")
            .order_by("pk")
        ],
    }


def _bookmarks(user: User) -> list[dict[str, Any]]:
    rows = Bookmark.objects.filter(user=user).select_related("thread", "post").order_by("pk")
    return [
        {
            "thema_id": b.thread_id,
            "thema_titel": b.thread.title,
            "beitrag_nummer": b.post.number if b.post is not None else None,
            "angelegt": b.created_at,
        }
        for b in rows
    ]


def _read_states(user: User) -> Iterator[dict[str, Any]]:
    rows = ReadState.objects.filter(user=user).order_by("pk")
    for r in _chunked(rows):
        yield {
            "thema_id": r.thread_id,
            "gelesen_bis_nummer": r.last_read_number,
            "am": r.updated_at,
        }


def _notification_preferences(user: User) -> dict[str, Any]:
    from forum.services.notifications import preferences_for

    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {"selbst_gewaehlt": chosen, "wirksam": preferences_for(user)}


def _notifications(user: User) -> Iterator[dict[str, Any]]:
    from forum.services.notifications import describe

    rows = (
        Notification.objects.filter(recipient=user)
        .select_related("thread", "actor")
        .order_by("created_at", "pk")
    )
    for n in _chunked(rows):
        yield {
            "art": n.kind,
            "text": describe(n),
            "thema_id": n.thread_id,
            "anzahl": n.count,
            "erstellt": n.created_at,
            "aktualisiert": n.updated_at,
            "gelesen": n.read_at,
        }


def _digest(user: User) -> dict[str, Any] | None:
    subscription = DigestSubscription.objects.filter(user=user).first()
    if subscription is None:
        return None
    # The secret is left out: it is a key to the signed links, not information about a person.
    return {
        "haeufigkeit": subscription.frequency,
        "wochentag": subscription.weekday,
        "stunde": subscription.hour,
        "rubriken": subscription.sections,
        "themen": subscription.topics,
        "pausiert_bis": subscription.paused_until,
        "bestaetigt": subscription.confirmed_at,
        "angelegt": subscription.created_at,
        "geaendert": subscription.updated_at,
    }


def _reports(user: User) -> list[dict[str, Any]]:
    rows = Report.objects.filter(reporter=user).select_related("post__thread").order_by("pk")
    return [
        {
            "beitrag_id": r.post_id,
            "thema_id": r.post.thread_id,
            "thema_titel": r.post.thread.title,
            "nummer": r.post.number,
            "grund": r.reason,
            "erlaeuterung": r.text,
            "stand": r.status,
            "gemeldet": r.created_at,
            "entschieden": r.resolved_at,
            "begruendung_der_entscheidung": r.resolution,
        }
        for r in rows
    ]


def _appeals(user: User) -> list[dict[str, Any]]:
    rows = Appeal.objects.filter(appellant=user).select_related("entry").order_by("pk")
    return [
        {
            "entscheidung": {
                "aktion": a.entry.action,
                "ziel": a.entry.target_label,
                "am": a.entry.created_at,
                "begruendung": a.entry.reason,
            },
            "text": a.text,
            "stand": a.status,
            "eingelegt": a.created_at,
            "antwort": a.answer,
            "beantwortet": a.answered_at,
        }
        for a in rows
    ]


def _write_attachments(archive: zipfile.ZipFile, user: User) -> list[dict[str, Any]]:
    """Copy the person's files into the archive in blocks; return their metadata."""
    rows = (
        Attachment.objects.filter(Q(uploaded_by=user) | Q(post__author=user))
        .select_related("post")
        .order_by("pk")
    )
    result = []
    for attachment in _chunked(rows):
        name = f"{ATTACHMENT_DIR}/{attachment.pk}-{safe_filename(attachment.original_name)}"
        found = True
        try:
            with (
                attachment.file.open("rb") as source,
                archive.open(name, "w", force_zip64=True) as target,
            ):
                shutil.copyfileobj(source, target, length=1024 * 1024)
        except (FileNotFoundError, OSError, ValueError):
            found = False
        result.append(
            {
                "id": attachment.pk,
                "datei": name if found else None,
                "datei_fehlt": not found,
                "dateiname": attachment.original_name,
                "typ": attachment.content_type,
                "groesse_bytes": attachment.size,
                "bild": attachment.is_image,
                "alternativtext": attachment.alt_text,
                "hochgeladen": attachment.created_at,
                "beitrag_id": attachment.post_id,
                "thema_id": attachment.post.thread_id,
            }
        )
    return result


def _accessibility_feedback(user: User) -> list[dict[str, Any]]:
    return [
        {
            "seite": f.page_url,
            "nachricht": f.message,
            "kontakt_email": f.contact_email,
            "eingegangen": f.created_at,
            "erledigt": f.handled_at,
        }
        for f in AccessibilityFeedback.objects.filter(user=user).order_by("pk")
    ]


def _invitations(user: User) -> dict[str, list[dict[str, Any]]]:
    # Invitations the person sent name other people's addresses: those are left out.
    sent = Invitation.objects.filter(invited_by=user).select_related("organisation")
    received = Invitation.objects.filter(accepted_by=user).select_related("organisation")
    return {
        "verschickt": [
            {
                "organisation": i.organisation.name,
                "am": i.created_at,
                "angenommen": i.accepted_at is not None,
            }
            for i in sent.order_by("pk")
        ],
        "angenommen": [
            {
                "organisation": i.organisation.name,
                "eingeladen_am": i.created_at,
                "am": i.accepted_at,
            }
            for i in received.order_by("pk")
        ],
    }


def _audit_as_actor(user: User) -> Iterator[dict[str, Any]]:
    """What the person did as moderator or curator (empty for most members)."""
    rows = AuditEntry.objects.filter(actor=user).order_by("created_at", "pk")
    for e in _chunked(rows):
        yield {
            "aktion": e.action,
            "ziel_typ": e.target_type,
            "ziel": e.target_label,
            "begruendung": e.reason,
            "am": e.created_at,
        }
