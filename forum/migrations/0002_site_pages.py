"""Seed the editable site pages from data/pages/*.md; later edits happen in the admin."""

from pathlib import Path

from django.conf import settings
from django.db import migrations


def seed_pages(apps, schema_editor):
    from forum.markdown import render_markdown

    SitePage = apps.get_model("forum", "SitePage")
    for path in sorted((Path(settings.BASE_DIR) / "data" / "pages").glob("*.md")):
        first, _, body = path.read_text(encoding="utf-8").partition("\n")
        SitePage.objects.get_or_create(
            slug=path.stem,
            defaults={
                "title": first.lstrip("# ").strip(),
                "body": body.strip(),
                "body_html": render_markdown(body.strip()),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("forum", "0001_initial")]

    operations = [migrations.RunPython(seed_pages, migrations.RunPython.noop)]
