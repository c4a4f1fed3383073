//! Deserializers that accept what Duo actually sends: fields documented as
//! strings arrive as numbers or null, health flags as `true` or `"unknown"`.
//! A surprising type degrades one field instead of failing a whole page.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string field; numbers and booleans are kept as text, objects, arrays,
/// null and `""` become `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Option<Cow<'a, str>>);

impl<'a> Str<'a> {
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// A field given as this text (`""` is no value), borrowed from the page.
    pub fn borrowed(text: &'a str) -> Str<'a> {
        Str(non_empty(Cow::Borrowed(text)))
    }

    /// The text itself, still borrowed from the page where it can be.
    pub fn text(self) -> Option<Cow<'a, str>> {
        self.0
    }
}

fn non_empty(s: Cow<'_, str>) -> Option<Cow<'_, str>> {
    (!s.is_empty()).then_some(s)
}

struct StrVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
    type Value = Str<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
        Ok(Str::borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
        Ok(Str(non_empty(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
        Ok(Str(non_empty(Cow::Owned(v))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Str<'a>, E> {
        Ok(Str(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Str<'a>, E> {
        Ok(Str(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Str<'a>, E> {
        Ok(Str(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Str<'a>, E> {
        Ok(Str(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
    }
    fn visit_none<E: de::Error>(self) -> Result<Str<'a>, E> {
        Ok(Str(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Str<'a>, E> {
        Ok(Str(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Str<'a>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Str<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Str(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Str<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Str(None))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrVisitor(PhantomData))
    }
}

/// A yes/no field: `true`/`false`, `"true"`/`"false"`/`"yes"`/`"no"`, `1`/`0`;
/// `"unknown"`, null and anything else are `None`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub Option<bool>);

impl Flag {
    /// The flag a field's text (as [`Str`] reads it) stands for.
    pub fn from_text(text: Option<&str>) -> Flag {
        // Compared in place: three flags per auth event, no allocation.
        let is =
            |words: &[&str]| text.is_some_and(|t| words.iter().any(|w| t.eq_ignore_ascii_case(w)));
        Flag(if is(&["true", "yes", "1", "on"]) {
            Some(true)
        } else if is(&["false", "no", "0", "off"]) {
            Some(false)
        } else {
            None
        })
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Flag::from_text(Str::deserialize(d)?.get()))
    }
}

/// An integer field that may arrive as a number, a numeric string or a float.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub Option<i64>);

fn float_to_int(f: f64) -> Option<i64> {
    f.is_finite().then_some(f as i64)
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Int;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }
    // Numbers directly: `timestamp` is in every log event, and going through
    // text would format and re-parse each one.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
        Ok(Int(Some(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
        Ok(Int(i64::try_from(v).ok()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
        Ok(Int(float_to_int(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
        let v = v.trim();
        Ok(Int(v
            .parse::<i64>()
            .ok()
            .or_else(|| v.parse::<f64>().ok().and_then(float_to_int))))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Int, E> {
        Ok(Int(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Int, E> {
        Ok(Int(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
        Ok(Int(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Int, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Int, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Int(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Int, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Int(None))
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(borrow, default)]
        s: Str<'a>,
        #[serde(default)]
        f: Flag,
        #[serde(default)]
        i: Int,
    }

    #[test]
    fn accepts_what_duo_sends() {
        let t: T = serde_json::from_str(r#"{"s":"a\"b","f":"unknown","i":"12"}"#).unwrap();
        assert_eq!((t.s.get(), t.f.0, t.i.0), (Some("a\"b"), None, Some(12)));
        let t: T = serde_json::from_str(r#"{"s":12,"f":true,"i":1.5e3}"#).unwrap();
        assert_eq!(
            (t.s.get(), t.f.0, t.i.0),
            (Some("12"), Some(true), Some(1500))
        );
        let t: T = serde_json::from_str(r#"{"s":{"x":[1]},"f":null,"i":null}"#).unwrap();
        assert_eq!((t.s.get(), t.f.0, t.i.0), (None, None, None));
        let t: T = serde_json::from_str(r#"{"s":""}"#).unwrap();
        assert_eq!(t.s.get(), None);
    }

    #[test]
    fn integers_arrive_as_numbers_text_or_floats() {
        let int = |json: &str| {
            serde_json::from_str::<T>(&format!(r#"{{"i":{json}}}"#))
                .unwrap()
                .i
                .0
        };
        assert_eq!(int("1581620180"), Some(1_581_620_180));
        assert_eq!(int("-5"), Some(-5));
        assert_eq!(int(r#"" 1581620180 ""#), Some(1_581_620_180));
        assert_eq!(int(r#""1.5e3""#), Some(1500));
        assert_eq!(int("18446744073709551615"), None, "beyond i64");
        for nothing in [r#""""#, r#""soon""#, "true", "[1]", r#"{"a":1}"#] {
            assert_eq!(int(nothing), None, "{nothing}");
        }
    }
}
