from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from forum.search.documents import rebuild


class Command(BaseCommand):
    help = "Baut den Suchindex aller Themen neu auf (nach Massenimporten oder neuem Wortschatz)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        count = rebuild()
        self.stdout.write(f"{count} Themen indexiert in {time.perf_counter() - started:.1f} s.")
