from __future__ import annotations

import pytest

from forum.models import Category
from forum.services.posts import post_create
from tests.factories import CategoryFactory, make_thread


@pytest.mark.django_db
class TestSimpleSearch:
    def test_finds_words_in_titles_and_posts_of_visible_threads_only(self, client, member):
        public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        a = make_thread(member, category=public, title="Verfügungsfonds in der Nordstadt")
        b = make_thread(member, category=public, title="Ein anderes Thema zum Test")
        post_create(member, thread=b, body="Wir nutzen einen Verfügungsfonds seit 2019.")
        make_thread(member, category=internal, title="Interner Verfügungsfonds-Austausch")
        html = client.get("/search/?q=verfügungsfonds").content.decode()
        assert a.title in html and b.title in html and "Interner" not in html
        assert "2 Themen gefunden" in html
        client.force_login(member)
        assert "Interner" in client.get("/search/?q=Verfügungsfonds").content.decode()

    def test_all_words_must_occur_and_an_empty_query_lists_nothing(self, client, member):
        public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
        make_thread(member, category=public, title="Leerstand in der Innenstadt")
        assert "1 Thema gefunden" in client.get("/search/?q=Leerstand+Innenstadt").content.decode()
        assert "0 Themen gefunden" in client.get("/search/?q=Leerstand+Hafen").content.decode()
        assert "gefunden" not in client.get("/search/?q=").content.decode()
