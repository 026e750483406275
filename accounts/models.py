"""Users, the organisations they belong to, their membership and the terms they accepted."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

HANDLE_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{1,28}[A-Za-z0-9])"
handle_validator = RegexValidator(
    regex=rf"^{HANDLE_PATTERN}$",
    message=_(
        "Der Benutzername muss 3 bis 30 Zeichen lang sein und darf nur Buchstaben ohne "
        "Umlaute, Ziffern, Bindestrich und Unterstrich enthalten; er beginnt und endet mit "
        "einem Buchstaben oder einer Ziffer."
    ),
)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommune")
        DISTRICT_GOVERNMENT = "district_government", _("Bezirksregierung")
        MINISTRY = "ministry", _("Ministerium")
        AGENCY = "agency", _("Agentur")
        OTHER = "other", _("Sonstige")

    # The slug is the organisation's identity: loading the network again updates by slug.
    slug = models.SlugField(_("Kürzel"), max_length=80, unique=True)
    name = models.CharField(_("Name"), max_length=200)
    kind = models.CharField(_("Art"), max_length=32, choices=Kind.choices, default=Kind.OTHER)
    region = models.CharField(
        _("Region"), max_length=100, blank=True, help_text=_("Regierungsbezirk")
    )
    website = models.URLField(_("Website"), blank=True)
    description = models.TextField(_("Beschreibung"), blank=True)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert"), auto_now=True)

    class Meta:
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisationen")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:organisation", kwargs={"slug": self.slug})


domain_validator = RegexValidator(
    regex=r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    message=_("Bitte geben Sie eine gültige Domain ohne @ an, z. B. bochum.de."),
)


class OrganisationDomain(models.Model):
    """An official e-mail domain. It also matches its subdomains.

    A domain that is no longer listed is deactivated rather than deleted: it admits no new
    members but demotes nobody who joined through it.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(
        _("Domain"), max_length=253, unique=True, validators=[domain_validator]
    )
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("E-Mail-Domain")
        verbose_name_plural = _("E-Mail-Domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email).lower()
        extra.setdefault("handle", _unique_handle_from_token())
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


def new_pseudonym() -> str:
    """A random, stable id for a person in the audit log; says nothing about who they are."""
    return f"P-{secrets.token_hex(6).upper()}"


def _unique_handle_from_token() -> str:
    # Only for accounts created outside signup (createsuperuser): never derived from the e-mail.
    return f"konto-{secrets.token_hex(4)}"


class User(AbstractBaseUser, PermissionsMixin):
    class Membership(models.TextChoices):
        PENDING = "pending", _("wartet auf Prüfung")
        APPROVED = "approved", _("bestätigt")
        REJECTED = "rejected", _("abgelehnt")

    email = models.EmailField(_("E-Mail-Adresse"), unique=True)
    handle = models.CharField(
        _("Benutzername"),
        max_length=30,
        unique=True,
        validators=[handle_validator],
        help_text=_("Für Ihre Profiladresse und @-Erwähnungen, z. B. anna-schmidt."),
    )
    display_name = models.CharField(_("Anzeigename"), max_length=100)

    # Profile, shown on every author line ("Name · Organisation").
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("Organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    job_title = models.CharField(_("Einheit / Funktion"), max_length=150, blank=True)
    bio = models.TextField(_("Kurzprofil"), max_length=1000, blank=True)
    work_phone = models.CharField(_("Telefon (dienstlich)"), max_length=40, blank=True)
    show_contact = models.BooleanField(
        _("Dienstliche E-Mail-Adresse und Telefon für Mitglieder zeigen"), default=False
    )
    expertise = TaggableManager(
        verbose_name=_("Fachgebiete"),
        blank=True,
        help_text=_("Schlagwörter, durch Kommas getrennt"),
    )

    # Membership: only approved members of an organisation may write.
    membership = models.CharField(
        _("Mitgliedschaft"),
        max_length=16,
        choices=Membership.choices,
        default=Membership.PENDING,
        db_index=True,
    )
    membership_note = models.TextField(
        _("Hinweis zur Mitgliedschaft"),
        blank=True,
        help_text=_("Warum die Mitgliedschaft geprüft wird oder abgelehnt wurde."),
    )
    suggested_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("vorgeschlagene Organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    membership_changed_at = models.DateTimeField(
        _("Mitgliedschaft geändert"), null=True, blank=True
    )

    # Suspension by the moderation (forum/services/suspension.py). It ends by itself when
    # ``suspended_until`` passes; without an end it lasts until a moderator lifts it.
    suspended_at = models.DateTimeField(_("gesperrt seit"), null=True, blank=True)
    suspended_until = models.DateTimeField(
        _("gesperrt bis"), null=True, blank=True, help_text=_("leer: unbefristet")
    )
    suspension_reason = models.TextField(_("Begründung der Sperre"), blank=True)

    # Staff turnover (accounts/turnover.py): a departed member stays named on their
    # posts ("nicht mehr aktiv"); the successor takes over follows and open questions; the
    # deputy also receives @mentions until ``deputy_until``.
    departed_at = models.DateTimeField(_("ausgeschieden am"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("Nachfolge"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    deputy = models.ForeignKey(
        "self",
        verbose_name=_("Vertretung"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deputy_for",
    )
    deputy_until = models.DateField(_("Vertretung bis"), null=True, blank=True)

    # Privacy (accounts/erasure.py). The pseudonym identifies the person in the audit
    # log; erasure keeps the row (authorship "ehemaliges Mitglied") and removes personal data.
    pseudonym = models.CharField(
        _("Pseudonym"), max_length=16, unique=True, default=new_pseudonym, editable=False
    )
    erased_at = models.DateTimeField(_("gelöscht am"), null=True, blank=True)
    retention_warned_at = models.DateTimeField(
        _("vor Löschung wegen Inaktivität gewarnt am"), null=True, blank=True
    )

    is_active = models.BooleanField(_("aktiv"), default=True)
    is_staff = models.BooleanField(
        _("Betrieb"),
        default=False,
        help_text=_("Darf die Verwaltungsoberfläche benutzen. Keine Moderationsrolle."),
    )
    date_joined = models.DateTimeField(_("registriert"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["handle", "display_name"]

    class Meta:
        verbose_name = _("Mitglied")
        verbose_name_plural = _("Mitglieder")
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="user_handle_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        permissions = [
            ("moderate", _("Darf moderieren")),
            ("review_membership", _("Darf Mitgliedschaften prüfen")),
            ("invite_members", _("Darf Personen einladen")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.handle

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"handle": self.handle})

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_suspended(self) -> bool:
        """Suspended right now: a suspension with an end date expires without anyone acting."""
        return self.suspended_at is not None and (
            self.suspended_until is None or self.suspended_until > timezone.now()
        )

    @property
    def is_approved_member(self) -> bool:
        # A suspended member stays a member (organisation, membership) but may not act as one.
        return (
            self.is_active
            and self.membership == self.Membership.APPROVED
            and self.organisation_id is not None
            and not self.is_suspended
        )


class TermsVersion(models.Model):
    """Terms of use and netiquette. A published version must be accepted to keep acting."""

    version = models.CharField(_("Version"), max_length=20, unique=True)
    title = models.CharField(_("Titel"), max_length=200, default=_("Nutzungsbedingungen"))
    body = models.TextField(_("Text (Markdown)"))
    body_html = models.TextField(editable=False, blank=True)
    summary_of_changes = models.TextField(_("Was sich geändert hat"), blank=True)
    published_at = models.DateTimeField(_("veröffentlicht"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Nutzungsbedingungen")
        verbose_name_plural = _("Nutzungsbedingungen")
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title} {self.version}"


class TermsAcceptance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="terms_acceptances"
    )
    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Zustimmung")
        verbose_name_plural = _("Zustimmungen")
        constraints = [
            models.UniqueConstraint(fields=["user", "terms"], name="terms_accepted_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.terms}"


class Invitation(models.Model):
    """A moderator invites someone into an organisation that has no e-mail domain of its own.

    The invitation is bound to the address: whoever confirms that address becomes a member.
    """

    email = models.EmailField(_("E-Mail-Adresse"))
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("Organisation"), on_delete=models.CASCADE
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    message = models.TextField(_("persönliche Nachricht"), blank=True, max_length=2000)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("eingeladen am"), default=timezone.now)
    expires_at = models.DateTimeField(_("gültig bis"))
    accepted_at = models.DateTimeField(_("angenommen am"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("zurückgezogen am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Einladung")
        verbose_name_plural = _("Einladungen")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:invitation", kwargs={"token": self.token})

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
