"""Send the digests that are due (for cron, e.g. every 15 minutes; see the README).

Idempotent: each due window is claimed once, and each claimed digest is sent once, however
often or concurrently this runs. Digests are built and sent by the task workers in batches;
``--direkt`` sends them in this process instead.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from forum.services import digests


class Command(BaseCommand):
    help = "Fällige E-Mail-Digests verschicken (idempotent, für cron)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--direkt",
            action="store_true",
            help="in diesem Prozess bauen und senden statt über die Task-Worker",
        )
        parser.add_argument(
            "--batch", type=int, default=digests.SEND_BATCH, help="Digests je Task (Standard 200)"
        )

    def handle(self, *args, direkt: bool, batch: int, **options):
        claimed = digests.digests_claim()
        pending = digests.pending_delivery_ids()
        batches = [pending[i : i + batch] for i in range(0, len(pending), batch)]
        if direkt:
            totals = digests.SendResult()
            for ids in batches:
                result = digests.digests_send(ids)
                totals.sent += result.sent
                totals.empty += result.empty
                totals.failed += result.failed
            self.stdout.write(
                f"{claimed.claimed} fällig, {claimed.skipped} pausiert oder gesperrt; "
                f"{totals.sent} verschickt, {totals.empty} leer (nicht verschickt), "
                f"{totals.failed} fehlgeschlagen."
            )
            return
        from forum.tasks import send_digest_batch

        for ids in batches:
            send_digest_batch.enqueue(ids)
        self.stdout.write(
            f"{claimed.claimed} fällig, {claimed.skipped} pausiert oder gesperrt; "
            f"{len(pending)} Digests in {len(batches)} Aufgaben für die Task-Worker."
        )
