"""Realistic German demo threads: questions, answers, an experience report, a discussion."""

from __future__ import annotations

from datetime import date

from accounts.models import User
from forum.models import Category, ProjectProfile
from forum.services.posts import post_create, reaction_toggle
from forum.services.threads import ProfileData, answer_accept, summary_set, thread_create


def demo_threads() -> None:
    u = {user.handle: user for user in User.objects.filter(membership=User.Membership.APPROVED)}
    cat = {c.slug: c for c in Category.objects.all()}

    q = thread_create(
        u["sabine-hoffmann"],
        category=cat["leerstand-und-immobilien"],
        kind="question",
        title="Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?",
        body=(
            "Wir prüfen in Krefeld den Zwischenerwerb von zwei verwahrlosten Wohn- und "
            "Geschäftshäusern in der Innenstadt. Die Eigentümer sind kaum erreichbar.\n\n"
            "- Welche Förderzugänge haben Sie genutzt (StBauF, Landesmittel)?\n"
            "- Wie lange hat es vom Beschluss bis zum Erwerb gedauert?\n"
            "- Gab es Probleme mit dem Verkehrswertgutachten?\n\n"
            "Für Hinweise auf Ratsvorlagen wäre ich dankbar."
        ),
        tags=["Zwischenerwerb", "Leerstand", "Städtebauförderung"],
    )
    answer = post_create(
        u["thomas-wagner"],
        thread=q,
        body=(
            "> Welche Förderzugänge haben Sie genutzt\n\n"
            "In Gelsenkirchen läuft das über unsere Stadterneuerungsgesellschaft: Ankauf mit "
            "Mitteln aus dem Programm *Sozialer Zusammenhalt*, Förderanteil 70 %. Vom "
            "Ratsbeschluss bis zur Beurkundung waren es bei uns gut **neun Monate**; der "
            "Engpass war das Gutachten.\n\n"
            "@sabine-hoffmann gern schicke ich Ihnen unsere Vorlage; @peter-schulte kann sicher "
            "zur Förderfähigkeit des Zwischenerwerbs etwas sagen."
        ),
    )
    post_create(
        u["peter-schulte"],
        thread=q,
        body=(
            "Aus Sicht der Bezirksregierung: Der Zwischenerwerb ist förderfähig, wenn er im "
            "ISEK als Maßnahme angelegt ist. Bitte frühzeitig mit Dezernat 35 abstimmen, damit "
            "der Wertansatz im Verwendungsnachweis nicht strittig wird."
        ),
    )
    reaction_toggle(u["sabine-hoffmann"], post=answer)
    reaction_toggle(u["jonas-becker"], post=answer)
    answer_accept(u["sabine-hoffmann"], post=answer)
    summary_set(
        u["sabine-hoffmann"],
        thread=q,
        summary=(
            "1. Zwischenerwerb ist förderfähig, wenn er im ISEK verankert ist.\n"
            "2. Mit 9–12 Monaten vom Beschluss bis zum Erwerb rechnen; Gutachten früh beauftragen.\n"
            "3. Eine Stadterneuerungsgesellschaft als Trägerin beschleunigt die Abwicklung."
        ),
    )

    report = thread_create(
        u["jonas-becker"],
        category=cat["brachflaechen-und-konversion"],
        kind="experience",
        title="Erfahrungsbericht: Zwischennutzung der Brache am Westpark mit Kulturvereinen",
        body=(
            "Auf einer ehemaligen Gewerbebrache in Bochum haben wir drei Jahre lang eine "
            "Zwischennutzung mit Kulturvereinen und Urban Gardening ermöglicht, bevor die "
            "Fläche für Wohnungsbau entwickelt wurde.\n\n"
            "## Was gut lief\n\n- Gestattungsverträge mit kurzer Kündigungsfrist\n"
            "- Ein fester Ansprechpartner im Amt\n\n## Was wir anders machen würden\n\n"
            "Verkehrssicherung und Versicherung früher klären."
        ),
        tags=["Brachflächen", "Zwischennutzung", "Beteiligung"],
        profile=ProfileData(
            organisation_id=u["jonas-becker"].organisation_id,
            programme=ProjectProfile.Programme.WACHSTUM,
            programme_detail="Förderjahr 2021",
            start_month=date(2021, 4, 1),
            end_month=date(2024, 3, 1),
            budget_eur=420000,
            funding_share_pct=70,
            status=ProjectProfile.Status.COMPLETED,
            partners="Kulturverein Westend e. V., Wohnungsgesellschaft",
            results="Rund 40 Veranstaltungen, 1.200 Besucherinnen und Besucher, Akzeptanz für die spätere Bebauung.",
            lessons_learned="Zwischennutzung braucht klare Enddaten von Anfang an.",
            contact="Stadtplanungs- und Bauordnungsamt Bochum",
        ),
    )
    post_create(
        u["aylin-demir"],
        thread=report,
        body="Danke für den Bericht! Wie haben Sie die Verkehrssicherung am Ende gelöst – über die Vereine oder über die Stadt?",
    )

    thread_create(
        u["aylin-demir"],
        category=cat["beteiligung-und-kommunikation"],
        kind="discussion",
        title="Verfügungsfonds: Wie viel Verwaltung verträgt das Ehrenamt?",
        body=(
            "Unser Verfügungsfonds in der Dortmunder Nordstadt wird gut angenommen, aber die "
            "Antragsformulare schrecken kleine Initiativen ab. Wie vereinfachen Sie Anträge und "
            "Nachweise, ohne die Vorgaben der Förderrichtlinie zu verletzen?"
        ),
        tags=["Verfügungsfonds", "Beteiligung"],
    )
    thread_create(
        u["peter-schulte"],
        category=cat["foerderung-und-antragstellung"],
        kind="question",
        title="Fristen für die Programmanmeldung 2027 – gibt es schon Erfahrungen mit dem neuen Formular?",
        body="Das neue Formular zur Programmanmeldung fragt Klimaanpassungsmaßnahmen gesondert ab. Wer hat es schon ausgefüllt?",
        tags=["Programmanmeldung", "Klimaanpassung"],
    )
