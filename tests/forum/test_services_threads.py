from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from forum.models import Category, Post, PostMention, ProjectProfile, Thread, ThreadFollow
from forum.services.posts import post_create, post_delete, post_edit, post_restore, reaction_toggle
from forum.services.threads import (
    ProfileData,
    answer_accept,
    answer_withdraw,
    summary_set,
    thread_create,
    thread_update,
)
from tests.factories import CategoryFactory, make_member, make_thread, make_user


@pytest.fixture
def category(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def other(network):
    return make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner")


@pytest.mark.django_db
class TestQuestions:
    def test_a_question_with_tags_an_answer_with_mention_and_an_accepted_solution(
        self, member, other, category
    ):
        thread = make_thread(
            member, category=category, tags=["Leerstand", "Zwischenerwerb", "#leerstand", "ISEK"]
        )
        assert sorted(thread.tags.names()) == ["ISEK", "Leerstand", "Zwischenerwerb"]
        answer = post_create(
            other, thread=thread, body="> Erster Beitrag.\n\nSo machen wir das, @JONAS-BECKER."
        )
        assert answer.number == 2
        assert '<a class="mention" href="/u/jonas-becker/">@jonas-becker</a>' in answer.body_html
        assert "<blockquote>" in answer.body_html
        assert list(
            PostMention.objects.filter(post=answer).values_list("user__handle", flat=True)
        ) == ["jonas-becker"]
        with pytest.raises(PermissionDenied):
            answer_accept(other, post=answer)
        thread = answer_accept(member, post=answer)
        assert thread.is_solved and thread.solved_at
        thread = answer_withdraw(member, thread=thread)
        assert not thread.is_solved
        thread = summary_set(member, thread=thread, summary="**Ergebnis:** ISEK zuerst.")
        assert "<strong>Ergebnis:</strong>" in thread.summary_html

    def test_the_first_post_cannot_be_the_accepted_answer(self, member, category):
        thread = make_thread(member, category=category)
        with pytest.raises(ValidationError):
            answer_accept(member, post=thread.posts.get(number=1))

    def test_at_most_five_tags(self, member, category):
        with pytest.raises(ValidationError) as exc:
            make_thread(member, category=category, tags=["a1", "b2", "c3", "d4", "e5", "f6"])
        assert "höchstens 5" in str(exc.value)

    def test_authors_and_repliers_watch_the_thread(self, member, other, category):
        thread = make_thread(member, category=category)
        post_create(other, thread=thread, body="Antwort")
        assert set(
            ThreadFollow.objects.filter(thread=thread).values_list("user__handle", "level")
        ) == {
            ("jonas-becker", "watching"),
            ("thomas-wagner", "watching"),
        }

    def test_authors_change_title_tags_and_kind(self, member, other, category):
        thread = make_thread(member, category=category, tags=["Alt"])
        thread = thread_update(
            member, thread=thread, title="Ein ganz neuer Titel", tags=["Neu"], kind="discussion"
        )
        assert thread.slug == "ein-ganz-neuer-titel" and thread.kind == "discussion"
        assert list(thread.tags.names()) == ["Neu"]
        with pytest.raises(PermissionDenied):
            thread_update(
                other, thread=thread, title="Gekapert durch andere", tags=[], kind="question"
            )


@pytest.mark.django_db
class TestPermissions:
    def test_pending_people_cannot_start_threads_or_reply(self, network, member, category):
        pending = make_user(email="p@example.com", handle="pending")
        public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
        with pytest.raises(PermissionDenied):
            make_thread(pending, category=public)
        thread = make_thread(member, category=public)
        with pytest.raises(PermissionDenied):
            post_create(pending, thread=thread, body="Hallo")

    def test_only_moderators_announce(self, member, mfa_moderator, category):
        with pytest.raises(PermissionDenied):
            make_thread(member, category=category, kind="announcement")
        thread = make_thread(
            mfa_moderator,
            category=category,
            kind="announcement",
            title="Werkstatt am 3. März in Hamm",
        )
        assert thread.kind == Thread.Kind.ANNOUNCEMENT

    def test_a_locked_thread_refuses_replies_and_a_hidden_one_is_invisible(
        self, member, other, category
    ):
        thread = make_thread(member, category=category)
        Thread.objects.filter(pk=thread.pk).update(is_locked=True)
        with pytest.raises(PermissionDenied):
            post_create(other, thread=thread, body="Noch eine Antwort")
        Thread.objects.filter(pk=thread.pk).update(is_hidden=True)
        with pytest.raises(Http404):
            post_create(other, thread=thread, body="Noch eine Antwort")

    def test_members_cannot_post_in_moderator_categories(self, member):
        internal = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        with pytest.raises(Http404):
            make_thread(member, category=internal)


@pytest.mark.django_db
class TestPosts:
    def test_submitting_twice_creates_one_post(self, member, other, category):
        thread = make_thread(member, category=category)
        token = uuid.uuid4()
        first = post_create(other, thread=thread, body="Antwort", client_token=token)
        second = post_create(other, thread=thread, body="Antwort", client_token=token)
        assert first.pk == second.pk
        assert Post.objects.filter(thread=thread).count() == 2
        thread.refresh_from_db()
        assert thread.post_count == 2

    def test_editing_keeps_the_history(self, member, category):
        thread = make_thread(member, category=category, body="Erste Fassung")
        post = thread.posts.get(number=1)
        post = post_edit(member, post=post, body="Zweite Fassung")
        assert post.edit_count == 1 and post.edited_at
        assert list(post.revisions.values_list("body", flat=True)) == ["Erste Fassung"]

    def test_deleting_leaves_a_placeholder_and_moderators_restore(
        self, member, other, category, mfa_moderator
    ):
        thread = make_thread(member, category=category)
        reply = post_create(other, thread=thread, body="Antwort")
        answer_accept(member, post=reply)
        post_delete(other, post=reply)
        reply.refresh_from_db()
        thread.refresh_from_db()
        assert reply.is_deleted and not thread.is_solved
        with pytest.raises(PermissionDenied):
            post_restore(other, post=reply)
        post_restore(mfa_moderator, post=reply)
        reply.refresh_from_db()
        assert not reply.is_deleted

    def test_the_first_post_cannot_be_deleted_alone(self, member, category):
        thread = make_thread(member, category=category)
        with pytest.raises(PermissionDenied):
            post_delete(member, post=thread.posts.get(number=1))

    def test_helpful_once_per_person_never_on_ones_own_post(self, member, other, category):
        thread = make_thread(member, category=category)
        reply = post_create(other, thread=thread, body="Antwort")
        assert reaction_toggle(member, post=reply) is True
        reply.refresh_from_db()
        assert reply.helpful_count == 1
        assert reaction_toggle(member, post=reply) is False
        reply.refresh_from_db()
        assert reply.helpful_count == 0
        with pytest.raises(PermissionDenied):
            reaction_toggle(other, post=reply)

    @pytest.mark.parametrize("body", ["", "   ", "x" * 30001])
    def test_empty_and_huge_posts_are_refused_with_a_message(self, member, category, body):
        thread = make_thread(member, category=category)
        with pytest.raises(ValidationError):
            post_create(member, thread=thread, body=body)


@pytest.mark.django_db
class TestExperienceReports:
    def test_a_report_needs_and_keeps_a_typed_profile(self, member, category):
        with pytest.raises(ValidationError):
            make_thread(member, category=category, kind="experience")
        profile = ProfileData(
            organisation_id=None,
            programme=ProjectProfile.Programme.SOZIALER_ZUSAMMENHALT,
            start_month=date(2022, 1, 1),
            end_month=date(2023, 6, 1),
            budget_eur=250000,
            funding_share_pct=80,
            status=ProjectProfile.Status.COMPLETED,
        )
        thread = make_thread(member, category=category, kind="experience", profile=profile)
        assert thread.profile.organisation == member.organisation
        assert thread.profile.funding_share_pct == 80

    def test_end_before_start_is_refused(self, member, category):
        profile = ProfileData(
            organisation_id=None,
            programme="efre",
            start_month=date(2023, 1, 1),
            end_month=date(2022, 1, 1),
        )
        with pytest.raises(ValidationError):
            make_thread(member, category=category, kind="experience", profile=profile)


def test_thread_create_same_token_returns_the_same_thread(db, network):
    member = make_member()
    category = CategoryFactory()
    token = uuid.uuid4()
    first = thread_create(
        member,
        category=category,
        kind="question",
        title="Eine doppelte Frage?",
        body="Text",
        client_token=token,
    )
    second = thread_create(
        member,
        category=category,
        kind="question",
        title="Eine doppelte Frage?",
        body="Text",
        client_token=token,
    )
    assert first.pk == second.pk and Thread.objects.count() == 1
