from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import network_load_file


class Command(BaseCommand):
    help = "Lädt das Netzwerk (Organisationen und ihre Mail-Domains) aus einer JSON-Datei."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=str(settings.NETWORK_FILE), help="Pfad zur JSON-Datei"
        )

    def handle(self, *args, path: str, **options):
        try:
            result = network_load_file(path)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Organisationen: {len(result.created)} neu, {len(result.updated)} geändert, "
            f"{len(result.unchanged)} unverändert; Domains: {len(result.domains_added)} neu, "
            f"{len(result.domains_deactivated)} deaktiviert."
        )
        for label, items in (
            ("neu", result.created),
            ("geändert", result.updated),
            ("Domain neu", result.domains_added),
            ("Domain deaktiviert", result.domains_deactivated),
        ):
            for item in items:
                self.stdout.write(f"  {label}: {item}")
        if not result.changed:
            self.stdout.write(self.style.SUCCESS("Keine Änderungen."))
