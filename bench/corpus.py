"""German building blocks for the benchmark data: names, vocabulary, titles and Markdown bodies.

Everything here is plain data plus a few builders that draw from a ``random.Random`` passed in,
so the generator stays deterministic for a fixed seed.
"""

from __future__ import annotations

import random

FIRST_NAMES = [
    "Anna", "Andreas", "Aylin", "Birgit", "Bernd", "Claudia", "Christian", "Dilara", "Daniel",
    "Elena", "Erik", "Fatma", "Frank", "Gabriele", "Georg", "Hannah", "Heiko", "Ines", "Jan",
    "Jana", "Jonas", "Julia", "Katrin", "Klaus", "Lea", "Lukas", "Marie", "Markus", "Mehmet",
    "Miriam", "Nadine", "Niklas", "Olga", "Oliver", "Petra", "Paul", "Ralf", "Renate", "Sabine",
    "Sebastian", "Sandra", "Stefan", "Tanja", "Thomas", "Ute", "Uwe", "Vanessa", "Volker",
    "Yusuf", "Zeynep",
]  # fmt: skip

LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler",
    "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang",
    "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Yılmaz", "Kaya", "Demir", "Nowak", "Kowalski",
]  # fmt: skip

JOB_TITLES = [
    "Stadtplanungsamt, Abteilung Stadterneuerung",
    "Amt für Stadtentwicklung, Stadtumbaubüro",
    "Quartiersmanagement Innenstadt",
    "Fachbereich Planen und Bauen",
    "Wirtschaftsförderung, Innenstadtmanagement",
    "Dezernat 35, Städtebauförderung",
    "Grünflächenamt, Freiraumplanung",
    "Klimaschutz- und Klimaanpassungsmanagement",
    "Liegenschaftsamt, Flächenmanagement",
    "Referat Bürgerbeteiligung",
    "Tiefbauamt, Straßenraumgestaltung",
    "Sozialplanung und Quartiersentwicklung",
]

# (name, slug, visibility, description): mostly public so an anonymous reader sees them.
CATEGORIES = [
    ("Innenstädte und Zentren", "innenstaedte-und-zentren", "public",
     "Frequenz, Nutzungsmischung und Aufenthaltsqualität in Innenstädten, Stadtteil- und Ortszentren."),
    ("Brachflächen und Konversion", "brachflaechen-und-konversion", "public",
     "Reaktivierung von Industrie-, Bahn- und Militärbrachen: Altlasten, Zwischennutzung, Vermarktung."),
    ("Wohnen und Quartier", "wohnen-und-quartier", "public",
     "Quartiersentwicklung, Wohnraumanpassung, Rückbau und Aufwertung im Bestand."),
    ("Öffentlicher Raum und Grün", "oeffentlicher-raum-und-gruen", "public",
     "Plätze, Parks und Straßenräume: Planung, Beteiligung, Pflege und Unterhaltung."),
    ("Klimaanpassung", "klimaanpassung", "public",
     "Hitze, Starkregen, Entsiegelung und blau-grüne Infrastruktur im Stadtumbau."),
    ("Beteiligung und Kommunikation", "beteiligung-und-kommunikation", "public",
     "Bürgerbeteiligung, Verfügungsfonds, Öffentlichkeitsarbeit und Kooperation mit Eigentümern."),
    ("Leerstand und Immobilien", "leerstand-und-immobilien", "public",
     "Leerstandsmanagement, Zwischenerwerb, Immobilien- und Standortgemeinschaften."),
    ("Förderung und Antragstellung", "foerderung-und-antragstellung", "members",
     "Städtebauförderung, ISEK, Förderanträge, Zuwendungsrecht und Verwendungsnachweise."),
    ("Verstetigung und Monitoring", "verstetigung-und-monitoring", "members",
     "Was nach dem Förderzeitraum bleibt: Trägerschaften, Evaluation und Monitoring."),
    ("Moderation intern", "moderation-intern", "moderators",
     "Absprachen des Moderationsteams der Agentur."),
]  # fmt: skip

# Relative weights of the categories above when threads are distributed.
CATEGORY_WEIGHTS = [16, 13, 13, 11, 10, 10, 9, 9, 7, 2]

TOPICS = [
    "Zwischennutzung", "Verfügungsfonds", "Leerstandsmanagement", "Hof- und Fassadenprogramm",
    "Quartiersmanagement", "Entsiegelung", "Regenwassermanagement", "Dachbegrünung",
    "Fassadenbegrünung", "Stadtteilbüro", "Eigentümerstandortgemeinschaft",
    "Immobilien- und Standortgemeinschaft", "Zwischenerwerb", "Rückbau", "Altlastensanierung",
    "Baulückenkataster", "Nahmobilität", "Fahrradstraße", "Spielplatzsanierung",
    "Platzgestaltung", "Bürgerbeteiligung", "Jugendbeteiligung", "Kinder- und Jugendbeteiligung",
    "Vorkaufsrecht", "Sanierungssatzung", "Ausgleichsbeträge", "Erhaltungssatzung",
    "Gestaltungssatzung", "Schrottimmobilien", "Modernisierungsvereinbarung",
    "Verwendungsnachweis", "Förderantrag", "Mittelabruf", "Zuwendungsbescheid",
    "Integriertes Handlungskonzept", "ISEK", "Evaluation", "Monitoring", "Verstetigung",
    "Kümmerer", "Citymanagement", "Pop-up-Store", "Ladenlokal", "Erdgeschossnutzung",
    "Nutzungsmischung", "Hitzeaktionsplan", "Schwammstadt", "Baumpflanzungen",
    "Stadtklimaanalyse", "Grünes Klassenzimmer", "Urban Gardening", "Mehrgenerationenwohnen",
    "Wohnumfeldverbesserung", "Sozialer Zusammenhalt", "Lebendige Zentren",
    "Wachstum und nachhaltige Erneuerung", "Bahnhofsumfeld", "Marktplatz", "Fußgängerzone",
    "Kaufhausleerstand", "Warenhausnachnutzung", "Konversion", "Gewerbebrache",
    "Zechenbrache", "Quartiersgarage", "Mobilstation", "Barrierefreiheit",
    "Öffentlichkeitsarbeit", "Stadtteilfest", "Lenkungsgruppe", "Beirat", "Vergabe",
    "Planungswettbewerb", "Mehrfachbeauftragung", "Bauleitplanung", "Denkmalschutz",
    "Energetische Sanierung", "Wärmeplanung", "Quartiersenergiekonzept", "Förderlotse",
    "Gebietsabgrenzung", "Kosten- und Finanzierungsübersicht", "Eigenanteil",
    "Haushaltssicherung", "Personalstellen", "Verfahrensbeschleunigung", "Digitale Beteiligung",
    "Online-Karte", "Passantenfrequenz", "Innenstadtgipfel", "Leerstandskataster",
    "Wochenmarkt", "Gastronomie", "Kulturnutzung", "Kreativwirtschaft", "Coworking",
    "Bildungslandschaft", "Familienzentrum", "Spielleitplanung", "Sicherheit im Stadtraum",
    "Beleuchtungskonzept", "Sauberkeit", "Pflegekonzept", "Grünpatenschaften",
]  # fmt: skip

CITIES = [
    "Altena", "Arnsberg", "Bielefeld", "Bochum", "Dortmund", "Gelsenkirchen", "Gladbeck",
    "Hamm", "Kamp-Lintfort", "Krefeld", "Kreuztal", "Leverkusen", "Remscheid", "Siegen",
    "Steinheim", "Wuppertal", "Werdohl",
]  # fmt: skip

PLACES = [
    "in der Innenstadt", "im Bahnhofsumfeld", "in der Nordstadt", "am Marktplatz",
    "im Stadtteilzentrum", "in der Fußgängerzone", "auf der ehemaligen Zechenfläche",
    "im Gründerzeitquartier", "in der Großwohnsiedlung", "am Rathausplatz",
    "entlang der Hauptstraße", "im Sanierungsgebiet", "auf dem früheren Güterbahnhof",
    "im Quartier rund um die Kirche", "im Ortskern",
]  # fmt: skip

SUBJECTS = [
    "Unser Stadtumbaubüro", "Das Quartiersmanagement", "Die Lenkungsgruppe", "Der Beirat",
    "Die Bezirksregierung", "Unsere Wirtschaftsförderung", "Das Citymanagement",
    "Die Eigentümerstandortgemeinschaft", "Der Rat", "Das Planungsbüro",
    "Unsere Verwaltungsspitze", "Die Stadtteilkonferenz", "Das Grünflächenamt",
    "Der Fachbereich Stadtentwicklung",
]  # fmt: skip

PREDICATES = [
    "hat im letzten Programmjahr {place} {obj} auf den Weg gebracht",
    "prüft derzeit {obj} {place}",
    "hat sich nach langer Diskussion für {obj} {place} entschieden",
    "begleitet seit dem Frühjahr {obj} {place}",
    "möchte im kommenden Jahr {obj} {place} beantragen",
    "bewertet {obj} {place} bislang sehr positiv",
    "sieht {obj} {place} noch kritisch",
    "hat für {obj} {place} eine eigene Stelle geschaffen",
    "stellt {obj} {place} in der nächsten Sitzung vor",
    "hat {obj} {place} bewusst schlank aufgesetzt",
]  # fmt: skip

OBJECTS = [
    "einen Verfügungsfonds für Gewerbetreibende", "die Entsiegelung des Schulhofs",
    "ein Hof- und Fassadenprogramm", "die Zwischennutzung leerer Ladenlokale",
    "den Zwischenerwerb einer Schrottimmobilie", "eine Mobilstation am Bahnhof",
    "die Umgestaltung des Kirchplatzes", "ein Leerstandskataster mit Online-Karte",
    "ein Quartiersenergiekonzept", "die Fortschreibung des ISEK",
    "einen Hitzeaktionsplan für die Innenstadt", "die Begrünung der Bushaltestellen",
    "eine digitale Beteiligung zum Spielplatz", "die Nachnutzung des Kaufhauses",
    "eine Immobilien- und Standortgemeinschaft", "ein Pflegekonzept für die neuen Grünflächen",
]  # fmt: skip

SENTENCES = [
    "Die Förderquote liegt bei uns bei 60 Prozent, den Eigenanteil tragen wir aus dem Haushalt.",
    "Wichtig war, die Eigentümer früh einzubinden und nicht erst mit fertigen Plänen zu kommen.",
    "Der Verwendungsnachweis hat uns mehr Arbeit gemacht als der eigentliche Antrag.",
    "Ohne eine Kümmerin vor Ort wäre das Projekt nach einem halben Jahr eingeschlafen.",
    "Die Bezirksregierung hat uns bei der Gebietsabgrenzung sehr unterstützt.",
    "Wir haben die Zwischennutzungen zunächst auf zwölf Monate befristet.",
    "Die Mieten für die Ladenlokale haben wir für zwei Jahre um die Hälfte reduziert.",
    "Beim Starkregen im Sommer hat sich gezeigt, wie wichtig die Entsiegelung war.",
    "Die Beteiligung lief zweistufig: erst online, dann mit einem Stand auf dem Wochenmarkt.",
    "Kinder und Jugendliche haben wir über die Schulen erreicht, nicht über Plakate.",
    "Die Pflege der neuen Grünflächen ist im Haushalt bisher nicht dauerhaft gesichert.",
    "Unsere Erfahrung: kleine, sichtbare Maßnahmen schaffen Vertrauen für die großen Projekte.",
    "Das Planungsbüro hat die Kostenschätzung inzwischen zweimal nach oben korrigiert.",
    "Der Rat hat den Beschluss einstimmig gefasst, das hat die Umsetzung deutlich erleichtert.",
    "Die Vergabe hat sich wegen fehlender Angebote um ein halbes Jahr verzögert.",
    "Wir dokumentieren die Passantenfrequenz seit 2023 mit automatischen Zählgeräten.",
    "Mit dem Vorkaufsrecht haben wir zwei Schlüsselimmobilien sichern können.",
    "Für die Fassadenbegrünung gibt es inzwischen eine kleine Förderrichtlinie der Stadt.",
    "Die Evaluation übernimmt ein externes Institut, die Ergebnisse erwarten wir im Herbst.",
    "Für Rückfragen stehe ich gern zur Verfügung, am besten per E-Mail.",
    "Hat jemand ein Muster für die Kosten- und Finanzierungsübersicht, das sich bewährt hat?",
    "Gibt es Kommunen, die mit einer Immobilien- und Standortgemeinschaft gearbeitet haben?",
    "Wie haben Sie die Verstetigung nach dem Ende des Förderzeitraums organisiert?",
    "Mich würde interessieren, wie andere Städte mit Schrottimmobilien umgehen.",
    "Vielen Dank für die ausführliche Antwort, das hilft uns bei der Vorbereitung sehr.",
    "Wir haben ähnliche Erfahrungen gemacht, allerdings mit einem deutlich kleineren Budget.",
    "Ein Ortstermin mit der Bezirksregierung hat viele Fragen schneller geklärt als jeder Schriftverkehr.",
    "Die Händlergemeinschaft war anfangs skeptisch, trägt das Projekt inzwischen aber mit.",
    "Das Stadtteilbüro ist dienstags und donnerstags geöffnet und wird gut angenommen.",
    "Der Baumstandort musste wegen der Leitungen im Untergrund zweimal verschoben werden.",
]  # fmt: skip

LIST_ITEMS = [
    "Bestandsaufnahme der Leerstände mit Eigentümerkontakten",
    "frühzeitige Abstimmung mit der Bezirksregierung",
    "klare Zuständigkeit in der Verwaltung",
    "ein kleines Budget für schnelle Maßnahmen",
    "regelmäßige Treffen der Lenkungsgruppe",
    "Öffentlichkeitsarbeit über lokale Medien und soziale Netzwerke",
    "befristete Mietverträge mit Verlängerungsoption",
    "Beteiligung der Anwohnerinnen und Anwohner vor Ort",
    "Monitoring mit wenigen, aber aussagekräftigen Kennzahlen",
    "Pflegevereinbarungen mit Grünpaten",
    "Kooperation mit der Wirtschaftsförderung",
    "eine Ansprechperson für alle Fördermittelfragen",
    "Vorlage für den Verwendungsnachweis",
    "Kostenschätzung mit ausreichendem Puffer",
    "Abstimmung mit Denkmalschutz und Feuerwehr",
]  # fmt: skip

BOLD_PHRASES = [
    "Fristen der Bezirksregierung", "Eigenanteil der Kommune", "Zweckbindungsfrist",
    "Mietzuschuss", "Beteiligung vor der Planung", "Pflege und Unterhaltung",
    "Verstetigung", "Förderfähigkeit", "Zwischennutzung", "Wirkungsmessung",
]  # fmt: skip

LINKS = [
    ("Städtebauförderung des Bundes", "https://www.staedtebaufoerderung.info/"),
    ("Förderrichtlinien Stadterneuerung NRW", "https://www.mhkbd.nrw/themen/bau/stadterneuerung"),
    ("Arbeitshilfe Verfügungsfonds", "https://www.staedtebaufoerderung.info/arbeitshilfen/verfuegungsfonds"),
    ("Leitfaden Zwischennutzung", "https://www.bbsr.bund.de/BBSR/DE/veroeffentlichungen/zwischennutzung"),
    ("Klimaanpassung in der Stadtplanung", "https://www.umweltbundesamt.de/themen/klima-energie/klimafolgen-anpassung"),
    ("Handbuch Bürgerbeteiligung", "https://www.netzwerk-buergerbeteiligung.de/"),
    ("Innenstadtstrategie des Landes", "https://www.mhkbd.nrw/themen/bau/innenstadt"),
    ("Ergebnisbericht unserer Evaluation", "https://www.stadtumbau.nrw.de/evaluation"),
]  # fmt: skip

TITLE_TEMPLATES = [
    "Erfahrungen mit {topic} {place}?",
    "Wie organisieren Sie das Thema {topic}?",
    "{topic}: Wer hat ein gutes Beispiel?",
    "{topic} in {city} – unser Zwischenstand",
    "Frage zur Förderfähigkeit: {topic}",
    "{topic} nach Ende des Förderzeitraums",
    "Austausch: {topic} {place}",
    "Praxisbericht {city}: {topic}",
    "Kosten und Aufwand für {topic}",
    "{topic} und Beteiligung – was hat funktioniert?",
]  # fmt: skip

BIG_THREAD_TITLE = (
    "Leerstand in der Innenstadt: Zwischennutzung, Verfügungsfonds und Eigentümeransprache"
)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def thread_title(rng: random.Random) -> str:
    title = rng.choice(TITLE_TEMPLATES).format(
        topic=rng.choice(TOPICS), place=rng.choice(PLACES), city=rng.choice(CITIES)
    )
    return title[0].upper() + title[1:]


def tag_names(count: int) -> list[str]:
    """``count`` distinct tags: the topics, then topics paired with a city (local projects)."""
    names = list(dict.fromkeys(TOPICS))
    extra = (f"{topic} {city}" for city in CITIES for topic in TOPICS[:40])
    while len(names) < count:
        names.append(next(extra))
    return names[:count]


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.45:
        predicate = rng.choice(PREDICATES).format(obj=rng.choice(OBJECTS), place=rng.choice(PLACES))
        return f"{rng.choice(SUBJECTS)} {predicate}."
    return rng.choice(SENTENCES)


def _paragraph(rng: random.Random, sentences: int) -> str:
    parts = [_sentence(rng) for _ in range(sentences)]
    if rng.random() < 0.5:
        i = rng.randrange(len(parts))
        parts[i] = f"{parts[i][:-1]} (Stichwort: **{rng.choice(BOLD_PHRASES)}**){parts[i][-1]}"
    if rng.random() < 0.3:
        text, url = rng.choice(LINKS)
        parts.append(f"Hilfreich war für uns: [{text}]({url}).")
    return " ".join(parts)


def post_body(rng: random.Random, target: int = 600) -> str:
    """About ``target`` characters of Markdown: paragraphs, lists, bold text and links."""
    blocks: list[str] = []
    shape = rng.random()
    if shape < 0.12:
        quoted = rng.choice(SENTENCES)
        blocks.append(f"> {quoted}")
    blocks.append(_paragraph(rng, rng.randint(1, 2)))
    if shape < 0.55:
        items = rng.sample(LIST_ITEMS, rng.randint(3, 4))
        numbered = rng.random() < 0.35
        intro = "So sind wir vorgegangen:" if numbered else "Bewährt haben sich bei uns:"
        lines = [f"{n}. {item}" if numbered else f"- {item}" for n, item in enumerate(items, 1)]
        blocks.append(intro + "\n\n" + "\n".join(lines))
    while sum(len(b) for b in blocks) < target - 80:
        blocks.append(_paragraph(rng, rng.randint(1, 2)))
    return "\n\n".join(blocks)
