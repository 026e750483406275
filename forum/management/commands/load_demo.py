from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forum.search.documents import rebuild, search_index_incomplete
from forum.services.demo import demo_load


class Command(BaseCommand):
    help = "Lädt einmalig das Netzwerk und eine kleine Demo (Themenfelder, Mitglieder, Moderation)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Die Demo wird in Produktion nicht geladen.")
        result = demo_load()
        if search_index_incomplete():
            # A database from before the search index (or filled by bulk inserts).
            self.stdout.write(f"Suchindex aufgebaut: {rebuild()} Themen.")
        if result is None:
            self.stdout.write("Demo ist bereits geladen; nichts geändert.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Demo geladen. Anmeldungen (Passwort für alle: {result.password}):")
        )
        for line in result.logins:
            self.stdout.write(f"  {line}")
