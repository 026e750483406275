"""Warn and erase inactive accounts (accounts/retention.py). Run daily from cron."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.retention import retention_run


class Command(BaseCommand):
    help = (
        "Warnt Konten, die fast FORUM_RETENTION_MONTHS Monate nicht benutzt wurden, per E-Mail "
        "und löscht (anonymisiert) gewarnte Konten nach Ablauf der Frist. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Nur anzeigen, was geschähe; nichts senden, nichts löschen.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        report = retention_run(dry_run=dry_run)
        months = settings.FORUM_RETENTION_MONTHS
        self.stdout.write(
            f"Aufbewahrung: {months} Monate ohne Anmeldung" + (" (Probelauf)" if dry_run else "")
        )
        # Pseudonyms only: this output may end up in a log that outlives the accounts.
        warned, erased = ("würde warnen", "würde löschen") if dry_run else ("gewarnt", "gelöscht")
        for user in report.warned:
            self.stdout.write(f"  {warned}: {user.pseudonym}")
        for user in report.erased:
            self.stdout.write(f"  {erased}: {user.pseudonym}")
        for user, reason in report.kept:
            self.stdout.write(f"  behalten: {user.pseudonym} – {reason}")
        self.stdout.write(
            f"{len(report.warned)} {'zu warnen' if dry_run else 'gewarnt'}, "
            f"{len(report.erased)} {'zu löschen' if dry_run else 'gelöscht'}, "
            f"{len(report.kept)} zur Entscheidung behalten"
        )
