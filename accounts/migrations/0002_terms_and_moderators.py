"""The first terms of use and the moderators group with its permissions."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

MODERATOR_PERMISSIONS = ("moderate", "review_membership", "invite_members")


def seed(apps, schema_editor):
    from forum.markdown import render_markdown

    # Permissions are normally created after all migrations; moderators need them now.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderation")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=MODERATOR_PERMISSIONS
        )
    )

    TermsVersion = apps.get_model("accounts", "TermsVersion")
    path = Path(settings.BASE_DIR) / "data" / "terms" / "1.0.md"
    if path.exists() and not TermsVersion.objects.exists():
        first, _, body = path.read_text(encoding="utf-8").partition("\n")
        TermsVersion.objects.create(
            version="1.0",
            title=first.lstrip("# ").strip(),
            body=body.strip(),
            body_html=render_markdown(body.strip()),
            published_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
