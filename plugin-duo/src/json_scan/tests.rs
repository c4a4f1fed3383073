use serde::de::IgnoredAny;

use super::*;

/// What the scanner makes of `text` as one whole JSON value.
fn scans(text: &str) -> Option<&str> {
    let mut s = Scanner::new(text);
    let value = s.value()?;
    s.at_end().then_some(value)
}

fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

#[test]
fn accepts_valid_json_and_returns_the_value_without_surrounding_space() {
    for (text, value) in [
        (
            " {\"a\":[1,-0.5e+3,\"x\\u00e9\\n\",true,false,null,{}]} ",
            None,
        ),
        ("[]", None),
        ("\t\"plain\"\r\n", Some("\"plain\"")),
        ("-0", None),
        ("1E9", None),
        ("{\"k\\\"ey\":{\"\":[[[]]]}}", None),
    ] {
        assert!(serde_accepts(text), "{text}");
        assert_eq!(scans(text), Some(value.unwrap_or(text.trim())), "{text}");
    }
}

#[test]
fn refuses_what_serde_json_refuses() {
    for text in [
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\"1}",
        "{\"a\":}",
        "{1:2}",
        "[1 2]",
        "01",
        "1.",
        ".5",
        "+1",
        "1e",
        "1e+",
        "-",
        "--1",
        "tru",
        "nul",
        "True",
        "nullx",
        "\"abc",
        "\"a\\x\"",
        "\"a\\u12G4\"",
        "\"a\\u12\"",
        "\"tab\there\"",
        "\"nl\nhere\"",
        "[1]]",
        "{\"a\":1}}",
        "[\"a\" \"b\"]",
        "'a'",
        "1 2",
    ] {
        assert!(!serde_accepts(text), "serde_json accepts {text:?}");
        assert_eq!(scans(text), None, "{text:?}");
    }
}

#[test]
fn leaves_deep_nesting_to_serde_json() {
    let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
    assert!(serde_accepts(&deep));
    assert_eq!(scans(&deep), None);
    let fine = format!("{}{}", "[".repeat(64), "]".repeat(64));
    assert_eq!(scans(&fine), Some(fine.as_str()));
}

#[test]
fn strings_longer_than_a_word_end_at_the_right_quote() {
    // Quotes, escapes and control characters at every offset of a word.
    for at in 0..20 {
        let pad = "x".repeat(at);
        let text = format!("[\"{pad}\",\"{pad}\\\"{pad}\",\"{pad}é\"]");
        assert_eq!(scans(&text), Some(text.as_str()), "{text}");
        let bad = format!("[\"{pad}\u{1}{pad}\"]");
        assert_eq!(scans(&bad), None, "{bad:?}");
    }
}

#[test]
fn plain_strings_and_integers() {
    let mut s = Scanner::new(r#" "abc" "a\"b" 12 -7 1.5 99999999999999999999 "#);
    assert_eq!(s.plain_string(), Some("abc"));
    assert_eq!(s.plain_string(), None, "escapes are serde_json's");
    let mut s = Scanner::new(" 12 ");
    assert_eq!(s.plain_integer(), Some(12));
    for text in [
        "1.5",
        "1e3",
        "1E3",
        "99999999999999999999",
        "9223372036854775807",
        "1000000000000000000",
        "\"1\"",
        "-",
        "01",
        "-01",
        "",
        " ",
        "x",
        "-x",
    ] {
        assert_eq!(Scanner::new(text).plain_integer(), None, "{text}");
    }
    for (text, n) in [
        ("-7", -7),
        ("0", 0),
        ("-0", 0),
        ("1581620180", 1_581_620_180),
        ("999999999999999999", 999_999_999_999_999_999),
        ("-999999999999999999", -999_999_999_999_999_999),
    ] {
        let mut s = Scanner::new(text);
        assert_eq!(s.plain_integer(), Some(n), "{text}");
        assert!(s.at_end(), "{text}");
    }
}

/// A small deterministic generator (xorshift): the mutation tests must not
/// need a crate or differ between runs.
pub(crate) struct Mutator(u64);

impl Mutator {
    pub(crate) fn new(seed: u64) -> Self {
        Mutator(seed | 1)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// `text` with one to three edits of the kinds that break or bend JSON.
    pub(crate) fn mutate(&mut self, text: &str) -> String {
        const PIECES: &[&str] = &[
            "\"",
            "\\",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "0",
            "1",
            "-",
            ".",
            "e",
            "+",
            "n",
            "null",
            "true",
            "false",
            "\\u0041",
            "\\n",
            "\u{1}",
            "é",
            "\"\"",
            "{}",
            "[]",
            "1.5",
            "12345678901234567890",
            "\"x\":1,",
        ];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + self.below(3) {
            let at = self.below(bytes.len() + 1);
            match self.below(4) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    let piece = PIECES[self.below(PIECES.len())];
                    bytes.splice(at..at, piece.bytes());
                }
                2 if at < bytes.len() => {
                    let piece = PIECES[self.below(PIECES.len())];
                    bytes.splice(at..at + 1, piece.bytes());
                }
                _ => {
                    // Repeat a stretch: duplicate keys, doubled values.
                    let len = self.below(40).min(bytes.len() - at.min(bytes.len()));
                    let stretch = bytes[at..at + len].to_vec();
                    bytes.splice(at..at, stretch);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[test]
fn accepts_exactly_what_serde_json_accepts_on_mutated_events() {
    let event = crate::normalize::tests::AUTH_EVENT;
    let mut mutator = Mutator::new(0x5eed);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let text = mutator.mutate(event);
        let ours = scans(&text);
        assert_eq!(ours.is_some(), serde_accepts(&text), "{text}");
        if let Some(value) = ours {
            assert_eq!(value, text.trim_matches([' ', '\t', '\n', '\r']));
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    // Both kinds must be well represented, or the test proves little.
    assert!(
        accepted > 2_000 && refused > 2_000,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn word_tests_are_exact_with_any_bytes_in_every_lane() {
    // Borrows between lanes only show with several odd bytes in one word.
    const ODD: &[u8] = &[
        0, 0x1f, 0x20, b'"', b'\\', b'-', b'@', b'A', b'Z', b'[', 0x7f, 0x80, 0x9f, 0xff,
    ];
    let mut random = Mutator::new(7);
    for _ in 0..100_000 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = match random.below(2) {
                0 => ODD[random.below(ODD.len())],
                _ => random.below(256) as u8,
            };
        }
        let word = u64::from_le_bytes(bytes);
        let lanes = |test: &dyn Fn(u8) -> bool| {
            (0..8)
                .filter(|&i| test(bytes[i]))
                .fold(0u64, |acc, i| acc | 0x80 << (8 * i))
        };
        for probe in [b' ', b'-', b'"', 0, 0xff] {
            let expect = lanes(&|b| b == probe);
            assert_eq!(
                crate::swar::bytes_equal_to(word, probe),
                expect,
                "{bytes:?}"
            );
        }
        let capitals = lanes(&|b: u8| b.is_ascii_uppercase());
        assert_eq!(
            crate::swar::ascii_bytes_in(word, b'A', b'Z'),
            capitals,
            "{bytes:?}"
        );
        let first = bytes.iter().position(|&b| is_special(b));
        assert_eq!(special_in_word(&bytes, 0), first, "{bytes:?}");
    }
}
