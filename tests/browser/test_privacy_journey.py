"""Deleting one's account in a real browser: from the profile to the confirmation page, and
the posts read "ehemaliges Mitglied" to the others afterwards."""

from __future__ import annotations

from playwright.sync_api import expect

from accounts.models import User
from forum.models import Post

MEMBER = "jonas.becker@bochum.de"
READER = "aylin.demir@stadtdo.de"


def test_a_member_deletes_their_account_and_their_posts_stay_anonymous(
    page, live, axe, watch, sign_in, new_context, screenshot_dir
):
    jonas = User.objects.get(email=MEMBER)
    post = Post.objects.filter(author=jonas).select_related("thread").first()
    assert post is not None, "the demo gives Jonas a post"
    thread_url = post.thread.get_absolute_url()

    sign_in(page, MEMBER)
    page.goto("/accounts/profile/")
    page.get_by_role("main").get_by_role("link", name="Konto löschen").click()
    expect(page).to_have_url(f"{live.url}/accounts/profile/loeschen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Konto löschen")
    expect(page.get_by_role("link", name="Laden Sie sie vorher herunter")).to_be_visible()
    axe(page)

    # A wrong password: a clear message, the typed confirmation is still there.
    page.get_by_label("Ihr aktuelles Passwort").fill("falsch")
    page.get_by_label("Zur Bestätigung tippen Sie bitte LÖSCHEN").fill("LÖSCHEN")
    page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(page.get_by_text("Das Passwort stimmt nicht.")).to_be_visible()
    expect(page.get_by_label("Zur Bestätigung tippen Sie bitte LÖSCHEN")).to_have_value("LÖSCHEN")
    axe(page)
    page.screenshot(path=str(screenshot_dir / "privacy-delete-error.png"), full_page=True)
    assert User.objects.get(pk=jonas.pk).erased_at is None

    page.get_by_label("Ihr aktuelles Passwort").fill("Demo-Passwort-2026")
    page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(page).to_have_url(f"{live.url}/accounts/konto-geloescht/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Konto wurde gelöscht")
    expect(page.get_by_role("link", name="Anmelden")).to_be_visible()  # logged out
    axe(page)
    page.screenshot(path=str(screenshot_dir / "privacy-deleted.png"), full_page=True)
    assert User.objects.get(pk=jonas.pk).erased_at is not None

    other = new_context().new_page()
    sign_in(other, READER)
    other.goto(thread_url)
    expect(other.locator(f"#post-{post.number} .author-line")).to_have_text("ehemaliges Mitglied")
    assert "Jonas Becker" not in other.content()
