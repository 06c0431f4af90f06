"""Countries and states by name: what "which country" and "which state" ask for.

The tagger calls a city, a state and a country alike a GPE, so "The winning ticket was sold
this week in which state?" could be answered "Los Angeles". These tables tell the three
apart for the answer line, and give the usual other names of a country ("Britain", "the
UK", "United Kingdom") so that they count as one answer, not as sources that differ.
Names are folded (``fold``) and without a leading "the".
"""

from __future__ import annotations

from functools import lru_cache

from .text import fold

COUNTRIES = frozenset(
    n.strip()
    for n in """afghanistan, albania, algeria, andorra, angola, antigua and barbuda, argentina, armenia,
australia, austria, azerbaijan, bahamas, bahrain, bangladesh, barbados, belarus, belgium, belize, benin,
bhutan, bolivia, bosnia and herzegovina, botswana, brazil, brunei, bulgaria, burkina faso, burundi,
cabo verde, cambodia, cameroon, canada, central african republic, chad, chile, china, colombia, comoros,
congo, democratic republic of the congo, costa rica, cote d'ivoire, croatia, cuba, cyprus, czech republic,
denmark, djibouti, dominica, dominican republic, east timor, ecuador, egypt, el salvador,
equatorial guinea, eritrea, estonia, eswatini, ethiopia, fiji, finland, france, gabon, gambia, georgia,
germany, ghana, greece, grenada, guatemala, guinea, guinea-bissau, guyana, haiti, honduras, hungary,
iceland, india, indonesia, iran, iraq, ireland, israel, italy, jamaica, japan, jordan, kazakhstan, kenya,
kiribati, kosovo, kuwait, kyrgyzstan, laos, latvia, lebanon, lesotho, liberia, libya, liechtenstein,
lithuania, luxembourg, madagascar, malawi, malaysia, maldives, mali, malta, marshall islands, mauritania,
mauritius, mexico, micronesia, moldova, monaco, mongolia, montenegro, morocco, mozambique, myanmar,
namibia, nauru, nepal, netherlands, new zealand, nicaragua, niger, nigeria, north korea, north macedonia,
norway, oman, pakistan, palau, palestine, panama, papua new guinea, paraguay, peru, philippines, poland,
portugal, qatar, romania, russia, rwanda, saint kitts and nevis, saint lucia,
saint vincent and the grenadines, samoa, san marino, sao tome and principe, saudi arabia, senegal, serbia,
seychelles, sierra leone, singapore, slovakia, slovenia, solomon islands, somalia, south africa,
south korea, south sudan, spain, sri lanka, sudan, suriname, sweden, switzerland, syria, taiwan,
tajikistan, tanzania, thailand, togo, tonga, trinidad and tobago, tunisia, turkey, turkmenistan, tuvalu,
uganda, ukraine, united arab emirates, united kingdom, united states, uruguay, uzbekistan, vanuatu,
vatican city, venezuela, vietnam, yemen, zambia, zimbabwe,
england, scotland, wales, northern ireland""".split(",")
)  # the last four: the UK's, as news calls them

# Other names of a country -> the name above.
ALIASES = {
    "uk": "united kingdom",
    "u.k.": "united kingdom",
    "u.k": "united kingdom",
    "britain": "united kingdom",
    "great britain": "united kingdom",
    "us": "united states",
    "u.s.": "united states",
    "u.s": "united states",
    "usa": "united states",
    "u.s.a.": "united states",
    "america": "united states",
    "united states of america": "united states",
    "uae": "united arab emirates",
    "u.a.e.": "united arab emirates",
    "holland": "netherlands",
    "russian federation": "russia",
    "republic of korea": "south korea",
    "drc": "democratic republic of the congo",
    "dr congo": "democratic republic of the congo",
    "czechia": "czech republic",
    "turkiye": "turkey",
    "burma": "myanmar",
    "cape verde": "cabo verde",
    "timor-leste": "east timor",
    "ivory coast": "cote d'ivoire",
}

STATES = frozenset(
    n.strip()
    for n in """alabama, alaska, arizona, arkansas, california, colorado,
connecticut, delaware, florida, georgia, hawaii, idaho, illinois, indiana, iowa, kansas, kentucky,
louisiana, maine, maryland, massachusetts, michigan, minnesota, mississippi, missouri, montana, nebraska,
nevada, new hampshire, new jersey, new mexico, new york, north carolina, north dakota, ohio, oklahoma,
oregon, pennsylvania, rhode island, south carolina, south dakota, tennessee, texas, utah, vermont,
virginia, washington, west virginia, wisconsin, wyoming,
new south wales, victoria, queensland, tasmania, western australia, south australia""".split(",")
)
# The fifty US states, then Australia's (the states news in English most often names).
# A state's name that is also a city's: no sign that a city question was answered with a state.
CITY_TOO = frozenset({"new york", "washington"})


@lru_cache(maxsize=4096)
def key(name: str) -> str:
    """``name`` folded, its white space collapsed, without a leading "the" or a trailing comma."""
    folded = " ".join(fold(name).split())
    return folded.removeprefix("the ").strip(",;:")


def country(name: str) -> str | None:
    """The country ``name`` names, in COUNTRIES' spelling (or an alias's target), else None."""
    k = key(name)
    if k in ALIASES:
        return ALIASES[k]
    return k if k in COUNTRIES else None


# Parts of a country that news names like places: no city, state or country.
REGIONS = frozenset(
    n.strip()
    for n in """midwest, upper midwest, northeast, southeast, southwest, northwest,
pacific northwest, new england, great plains, gulf coast, east coast, west coast, south, north, deep south,
rust belt, sun belt, mid-atlantic, great lakes, rockies, appalachia""".split(",")
)


def place_type(name: str) -> str | None:
    """ "country", "state", "region" or None (a city, or a place these tables do not know).
    "Georgia" is both: a state here, as US news names it far more often."""
    k = key(name)
    if k in STATES:
        return "state"
    if k in REGIONS:
        return "region"
    return "country" if country(k) else None


# Names that carry their article: two countries' official short names, and publications
# ("The New York Times", "The Guardian").
_WITH_ARTICLE = frozenset({"bahamas", "gambia"})
_PUBLICATIONS = frozenset(
    """times post guardian journal telegraph independent observer economist atlantic
    yorker sun mirror herald tribune chronicle globe""".split()
)


def takes_article(name: str) -> bool:
    """Whether ``name`` is written with "the" as part of it."""
    k = key(name)
    return k in _WITH_ARTICLE or (
        bool(k) and k.split()[-1] in _PUBLICATIONS and k[:1].isalpha() and name[:1].isupper()
    )
