"""A small, realistic German demo network for a newcomer's first ``make run``."""

from __future__ import annotations

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from accounts.models import Organisation, User
from accounts.selectors import current_terms
from accounts.services import (
    membership_on_email_confirmed,
    moderator_create,
    network_load_file,
    profile_update,
    terms_accept,
)
from forum.models import Category

DEMO_PASSWORD = "Demo-Passwort-2026"

CATEGORIES = [
    ("Innenstädte und Zentren", "innenstaedte-und-zentren", "public",
     "Frequenz, Nutzungsmischung und Aufenthaltsqualität in Innenstädten, Stadtteil- und Ortszentren."),
    ("Brachflächen und Konversion", "brachflaechen-und-konversion", "members",
     "Reaktivierung von Industrie-, Bahn- und Militärbrachen: Altlasten, Zwischennutzung, Vermarktung."),
    ("Wohnen und Quartier", "wohnen-und-quartier", "members",
     "Quartiersentwicklung, Wohnraumanpassung, Rückbau und Aufwertung im Bestand."),
    ("Öffentlicher Raum und Grün", "oeffentlicher-raum-und-gruen", "public",
     "Plätze, Parks und Straßenräume: Planung, Beteiligung, Pflege und Unterhaltung."),
    ("Klimaanpassung", "klimaanpassung", "members",
     "Hitze, Starkregen, Entsiegelung und blau-grüne Infrastruktur im Stadtumbau."),
    ("Beteiligung und Kommunikation", "beteiligung-und-kommunikation", "public",
     "Bürgerbeteiligung, Verfügungsfonds, Öffentlichkeitsarbeit und Kooperation mit Eigentümern."),
    ("Förderung und Antragstellung", "foerderung-und-antragstellung", "members",
     "Städtebauförderung, ISEK, Förderanträge, Zuwendungsrecht und Verwendungsnachweise."),
    ("Leerstand und Immobilien", "leerstand-und-immobilien", "members",
     "Leerstandsmanagement, Zwischenerwerb, Immobilien- und Standortgemeinschaften."),
    ("Verstetigung und Monitoring", "verstetigung-und-monitoring", "members",
     "Was nach dem Förderzeitraum bleibt: Trägerschaften, Evaluation und Monitoring."),
    ("Moderation intern", "moderation-intern", "moderators",
     "Absprachen des Moderationsteams der Agentur."),
]  # fmt: skip

MEMBERS = [
    ("jonas.becker@bochum.de", "jonas-becker", "Jonas Becker",
     "Stadtplanungs- und Bauordnungsamt, Stadterneuerung", ["Brachflächen", "Zwischennutzung"]),
    ("aylin.demir@stadtdo.de", "aylin-demir", "Aylin Demir",
     "Amt für Stadterneuerung, Quartiersmanagement Nordstadt", ["Beteiligung", "Verfügungsfonds"]),
    ("thomas.wagner@gelsenkirchen.de", "thomas-wagner", "Thomas Wagner",
     "Referat Stadtplanung, Stadtumbaubüro", ["Leerstand", "Zwischenerwerb"]),
    ("sabine.hoffmann@krefeld.de", "sabine-hoffmann", "Sabine Hoffmann",
     "Fachbereich Stadt- und Verkehrsplanung", ["Klimaanpassung", "Innenstadt"]),
    ("peter.schulte@bra.nrw.de", "peter-schulte", "Peter Schulte",
     "Dezernat 35, Städtebauförderung", ["Städtebauförderung", "Verwendungsnachweis"]),
]  # fmt: skip


@dataclass
class DemoResult:
    password: str = DEMO_PASSWORD
    logins: list[str] = field(default_factory=list)


def _member(email: str, handle: str, name: str) -> User:
    user = User.objects.create_user(
        email=email, password=DEMO_PASSWORD, handle=handle, display_name=name
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    terms = current_terms()
    if terms is not None:
        terms_accept(user, terms=terms)
    return user


def demo_load() -> DemoResult | None:
    """Load the demo once; returns None when it is already there."""
    if User.objects.filter(handle="miriam-koch").exists():
        return None
    result = DemoResult()
    with transaction.atomic():
        network_load_file(settings.NETWORK_FILE)
        for position, (name, slug, visibility, description) in enumerate(CATEGORIES):
            Category.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "visibility": visibility,
                    "description": description,
                    "position": position,
                },
            )
        agency = Organisation.objects.get(slug="innovationsagentur")
        moderator = moderator_create(
            email="miriam.koch@agentur.example.org",
            handle="miriam-koch",
            display_name="Miriam Koch",
            password=DEMO_PASSWORD,
            organisation=agency,
        )
        profile_update(
            moderator,
            display_name="Miriam Koch",
            job_title="Moderation und Praxis-Reader",
            bio="Ich betreue das Forum für die Agentur und stelle die Praxis-Reader zusammen.",
            expertise=["Wissensmanagement", "Städtebauförderung"],
        )
        terms = current_terms()
        if terms is not None:
            terms_accept(moderator, terms=terms)
        result.logins.append("miriam.koch@agentur.example.org – Moderation (Agentur)")
        for email, handle, name, job, expertise in MEMBERS:
            user = _member(email, handle, name)
            user = membership_on_email_confirmed(user, email=email)
            profile_update(user, display_name=name, job_title=job, bio="", expertise=expertise)
            result.logins.append(f"{email} – Mitglied ({user.organisation.name})")
        from forum.services.demo_content import demo_threads

        demo_threads()
        pending = _member("lena.fischer@posteo.de", "lena-fischer", "Lena Fischer")
        membership_on_email_confirmed(pending, email=pending.email)
        result.logins.append("lena.fischer@posteo.de – wartet auf Prüfung (freie Adresse)")
    return result
