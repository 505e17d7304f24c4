"""The region and network slugs agreed in the tagging issue, in their agreed order.

Slugs are a contract with subscribers' config files and Datasette links: tests check
the taxonomy and the sample site against this list, never against the taxonomy itself.
"""

REGIONS = [
    "ita-uusimaa",
    "keski-uusimaa",
    "lansi-uusimaa",
    "vantaa-kerava",
    "varsinais-suomi",
    "satakunta",
    "kanta-hame",
    "pirkanmaa",
    "paijat-hame",
    "kymenlaakso",
    "etela-karjala",
    "etela-savo",
    "pohjois-savo",
    "pohjois-karjala",
    "keski-suomi",
    "etela-pohjanmaa",
    "pohjanmaa",
    "keski-pohjanmaa",
    "pohjois-pohjanmaa",
    "kainuu",
    "lappi",
    "helsinki",
    "hus",
]
NETWORKS = [
    "vastuuhenkiloiden-verkosto",
    "viestintaverkosto",
    "sidosryhmaverkosto",
    "ministerityoryhma",
    "johtoryhma",
    "jaosto-rahoitus",
    "jaosto-henkilosto",
    "jaosto-jarjestaminen",
    "jaosto-alueellinen-valmistelu",
    "seurantaryhma",
    "koordinaatioryhma",
    "valtakunnallinen-viestintaryhma",
    "neuvottelukunta",
    "sote-muutostuki",
    "tulevaisuuden-sotekeskus",
]
