from __future__ import annotations

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.forms import clean_handle_value
from accounts.models import Organisation, User
from accounts.services import moderator_create


class Command(BaseCommand):
    help = (
        "Legt die erste Moderatorin bzw. den ersten Moderator an (oder macht ein bestehendes "
        "Konto dazu). Das Passwort wird abgefragt oder aus MODERATOR_PASSWORD gelesen."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--handle", help="Benutzername (nur für neue Konten)")
        parser.add_argument("--name", help="Anzeigename (nur für neue Konten)")
        parser.add_argument(
            "--organisation", default="innovationsagentur", help="Kürzel der Organisation"
        )

    def handle(
        self, *args, email: str, handle: str | None, name: str | None, organisation: str, **options
    ):
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(
                f"Organisation „{organisation}“ gibt es nicht. Laden Sie zuerst das Netzwerk "
                "(manage.py load_network)."
            )
        existing = User.objects.filter(email__iexact=email).first()
        password = ""
        if existing is None:
            if not handle or not name:
                raise CommandError("Für ein neues Konto sind --handle und --name nötig.")
            try:
                handle = clean_handle_value(handle)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            password = os.environ.get("MODERATOR_PASSWORD") or getpass.getpass("Passwort: ")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        user = moderator_create(
            email=email,
            handle=handle or "",
            display_name=name or "",
            password=password,
            organisation=org,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.display_name} (@{user.handle}) moderiert jetzt für {org.name}. "
                "Beim ersten Aufruf von /mod/ wird die Zwei-Faktor-Authentifizierung eingerichtet."
            )
        )
