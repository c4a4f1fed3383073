//! A checking JSON scanner for the hot path of log pages: finding the events
//! of a page and reading the fields of an auth event.
//!
//! Why not serde_json alone: in the sandbox, wasmtime checks its CPU deadline
//! (the epoch) at every function entry and loop header, and serde_json's
//! token-at-a-time `ignore_value` and its visitor layers ran 2.2–2.7× their
//! native time there, against ~1.1× for its word-at-a-time string scans. This
//! scanner reads whole strings a word at a time and walks the few shapes Duo
//! sends with little else.
//!
//! The contract that keeps it safe: every method answers `None` for anything
//! it does not handle, invalid JSON included, and the caller then takes the
//! serde_json path, which gives the answer or the error. The scanner never
//! rejects input; what it accepts it has checked in full (string escapes,
//! control characters, number grammar, literals, nesting, separators), so it
//! accepts only what serde_json accepts. The tests hold it to that on
//! mutated inputs.

use crate::swar::{HIGH_BITS, ONES, word_at};

/// Deepest nesting one [`Scanner::value`] follows; deeper values take the
/// serde_json path (which has no limit for skipped values).
const MAX_DEPTH: u32 = 64;

pub struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// A scanner over `body` if it is UTF-8.
    pub fn from_utf8(body: &'a [u8]) -> Option<Self> {
        Some(Scanner::new(utf8(body)?))
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        // Duo sends compact JSON: no loop (and no epoch check) without spaces.
        match *self.text.as_bytes().get(self.pos)? {
            b' ' | b'\n' | b'\t' | b'\r' => self.peek_after_whitespace(),
            b => Some(b),
        }
    }

    #[inline(never)]
    fn peek_after_whitespace(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte`, after any whitespace.
    pub fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Consumes `literal` (`null`, `true`, `false`) if it comes next.
    pub fn eat_literal(&mut self, literal: &str) -> bool {
        self.peek();
        let found = self.text.as_bytes()[self.pos..].starts_with(literal.as_bytes());
        if found {
            self.pos += literal.len();
        }
        found
    }

    /// Only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// A string without escapes: its text between the quotes. `None` for
    /// escapes too, which serde_json decodes.
    pub fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        if self.string_rest()? {
            return None;
        }
        Some(&self.text[start..self.pos - 1])
    }

    /// An integer of at most 18 digits, without fraction or exponent. One
    /// pass over the digits (a timestamp in every auth event), and no
    /// overflow checks: on wasm32 a checked 64-bit multiply is a call.
    pub fn plain_integer(&mut self) -> Option<i64> {
        self.peek()?;
        let bytes = self.text.as_bytes();
        let negative = bytes[self.pos] == b'-';
        let start = self.pos + usize::from(negative);
        let (mut pos, mut magnitude) = (start, 0i64);
        while let Some(digit) = bytes
            .get(pos)
            .and_then(|b| b.checked_sub(b'0'))
            .filter(|d| *d < 10)
        {
            if pos - start == 18 {
                return None;
            }
            magnitude = magnitude * 10 + i64::from(digit);
            pos += 1;
        }
        let no_digits = pos == start;
        if no_digits
            || (bytes[start] == b'0' && pos - start > 1)
            || matches!(bytes.get(pos), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.pos = pos;
        Some(if negative { -magnitude } else { magnitude })
    }

    /// Calls `field` with each key of an object, the cursor on its value;
    /// `field` must consume the value.
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.plain_string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Calls `item` with the cursor on each element of an array; `item` must
    /// consume it.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skips one value of any type, checking it; its text (what serde_json's
    /// `RawValue` holds: from its first byte to its last).
    pub fn value(&mut self) -> Option<&'a str> {
        self.peek()?;
        let start = self.pos;
        // One bit per open container, innermost lowest: 1 for an object.
        let mut open: u64 = 0;
        let mut depth = 0;
        loop {
            // A value starts at the cursor.
            let opened = match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    self.string_rest()?;
                    None
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                    None
                }
                b'n' | b't' | b'f' => {
                    if !(self.eat_literal("null")
                        || self.eat_literal("true")
                        || self.eat_literal("false"))
                    {
                        return None;
                    }
                    None
                }
                b @ (b'{' | b'[') => {
                    self.pos += 1;
                    Some(b == b'{')
                }
                _ => return None,
            };
            if let Some(is_object) = opened {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                open = open << 1 | u64::from(is_object);
                let close = if is_object { b'}' } else { b']' };
                if self.eat(close).is_some() {
                    depth -= 1;
                    open >>= 1;
                } else if !(is_object && self.member_with_text()?) {
                    continue;
                }
            }
            // A value ended: a separator, or the end of its containers.
            loop {
                if depth == 0 {
                    return Some(&self.text[start..self.pos]);
                }
                let in_object = open & 1 == 1;
                match (self.peek()?, in_object) {
                    (b',', _) => {
                        self.pos += 1;
                        if in_object && self.member_with_text()? {
                            continue;
                        }
                        break;
                    }
                    (b'}', true) | (b']', false) => {
                        self.pos += 1;
                        depth -= 1;
                        open >>= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A member's key and colon, and its value too if that is a string
    /// (`true`): most members are `"key":"text"`, and in [`Self::value`]
    /// they then cost a turn of one loop rather than one of each.
    #[inline(always)]
    fn member_with_text(&mut self) -> Option<bool> {
        self.key()?;
        if self.text.as_bytes().get(self.pos) != Some(&b'"') {
            return Some(false);
        }
        self.pos += 1;
        self.string_rest()?;
        Some(true)
    }

    /// A key and its colon, inside [`Self::value`] (escapes allowed).
    fn key(&mut self) -> Option<()> {
        self.eat(b'"')?;
        self.string_rest()?;
        self.eat(b':')
    }

    /// The rest of a string after its opening quote, checked; whether it had
    /// escapes. The cursor ends after the closing quote.
    #[inline(always)]
    fn string_rest(&mut self) -> Option<bool> {
        let end = find_special(self.text.as_bytes(), self.pos);
        if self.text.as_bytes().get(end) == Some(&b'"') {
            self.pos = end + 1;
            return Some(false);
        }
        self.pos = end;
        self.escaped_string_rest()
    }

    /// [`Self::string_rest`] from the first escape (or control character).
    #[inline(never)]
    fn escaped_string_rest(&mut self) -> Option<bool> {
        let bytes = self.text.as_bytes();
        let mut pos = self.pos;
        loop {
            match *bytes.get(pos)? {
                b'"' => {
                    self.pos = pos + 1;
                    return Some(true);
                }
                b'\\' => match *bytes.get(pos + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => pos += 2,
                    b'u' => {
                        let hex = bytes.get(pos + 2..pos + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        pos += 6;
                    }
                    _ => return None,
                },
                // A control character: JSON strings may not hold them raw.
                _ => return None,
            }
            pos = find_special(bytes, pos);
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at the cursor.
    fn number(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match *bytes.get(self.pos)? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.at_least_one_digit()?;
        }
        if matches!(bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.at_least_one_digit()?;
        }
        Some(())
    }

    fn at_least_one_digit(&mut self) -> Option<()> {
        self.text
            .as_bytes()
            .get(self.pos)?
            .is_ascii_digit()
            .then_some(())?;
        self.digits();
        Some(())
    }

    fn digits(&mut self) {
        let bytes = self.text.as_bytes();
        while bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
    }
}

/// `body` as text if it is UTF-8. Duo's pages are nearly all ASCII, checked
/// here 32 bytes per loop turn; `str::from_utf8` takes over from the first
/// word with a non-ASCII byte. (Its own ASCII loop steps by two `usize`s:
/// 8 bytes on wasm32, and an epoch check per step in the sandbox.)
fn utf8(body: &[u8]) -> Option<&str> {
    let mut pos = 0;
    while let Some(chunk) = body.get(pos..pos + 32) {
        let word = |i| word_at(chunk, i).expect("in the chunk");
        if (word(0) | word(8) | word(16) | word(24)) & HIGH_BITS != 0 {
            break;
        }
        pos += 32;
    }
    std::str::from_utf8(&body[pos..]).ok()?;
    // SAFETY: `body[..pos]` is ASCII (checked above) and `body[pos..]` is
    // UTF-8 (checked by `from_utf8`); an ASCII prefix ends on a character
    // boundary, so the whole is UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(body) })
}

/// The index of the first `"`, `\` or control character at or after `pos`
/// (or the length), eight bytes per step: the bit trick of serde_json's
/// `skip_to_escape`. The first two words are tried in line: most of Duo's
/// strings end within them, and in the sandbox a call or a loop costs an
/// epoch check even when the loop runs no turn.
#[inline(always)]
fn find_special(bytes: &[u8], pos: usize) -> usize {
    match special_in_word(bytes, pos) {
        Some(found) => found,
        // That word had none, or there was no whole word left.
        None if bytes.len() >= pos + 8 => match special_in_word(bytes, pos + 8) {
            Some(found) => found,
            None if bytes.len() >= pos + 16 => find_special_from(bytes, pos + 16),
            None => find_special_from(bytes, pos + 8),
        },
        None => find_special_from(bytes, pos),
    }
}

#[inline(never)]
fn find_special_from(bytes: &[u8], mut pos: usize) -> usize {
    // Two words per turn: half the epoch checks of one.
    while bytes.len() >= pos + 16 {
        if let Some(found) = special_in_word(bytes, pos) {
            return found;
        }
        if let Some(found) = special_in_word(bytes, pos + 8) {
            return found;
        }
        pos += 16;
    }
    if let Some(found) = special_in_word(bytes, pos) {
        return found;
    }
    if bytes.len() >= pos + 8 {
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if is_special(b) {
            return pos;
        }
        pos += 1;
    }
    bytes.len()
}

/// The first special byte in the eight from `pos`, if they are all there and
/// one is special; `None` for both "none special" and "fewer than eight
/// bytes left" (then the slow path looks byte by byte).
#[inline(always)]
fn special_in_word(bytes: &[u8], pos: usize) -> Option<usize> {
    let word = word_at(bytes, pos)?;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    // The lowest flagged byte is exact (borrows only run upwards).
    let found = (control | quote | backslash) & HIGH_BITS;
    (found != 0).then(|| pos + found.trailing_zeros() as usize / 8)
}

fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

#[cfg(test)]
pub(crate) mod tests;
