from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from forum.services.taskqueue import tasks_reap


class Command(BaseCommand):
    help = (
        "Reiht Hintergrundaufgaben wieder ein, die seit mehr als --older-than Minuten laufen "
        "(ihr Worker ist abgestürzt oder wurde beendet). Für cron; mehrfach ausführbar."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=30,
            metavar="MINUTEN",
            help="so lange muss eine Aufgabe schon laufen (Standard: 30; länger als die "
            "längste Aufgabe)",
        )

    def handle(self, *args, older_than: int, **options):
        if older_than < 1:
            raise CommandError("--older-than braucht mindestens 1 Minute.")
        reaped = tasks_reap(older_than=timedelta(minutes=older_than))
        if not reaped.ids:
            self.stdout.write(f"Keine hängenden Aufgaben (älter als {older_than} Minuten).")
            return
        count = len(reaped.ids)
        noun = "Aufgabe" if count == 1 else "Aufgaben"
        details = ", ".join(f"{path} ×{n}" for path, n in sorted(reaped.by_task.items()))
        self.stdout.write(
            f"{count} hängende {noun} wieder eingereiht (länger als {older_than} Minuten "
            f"gelaufen): {details}"
        )
