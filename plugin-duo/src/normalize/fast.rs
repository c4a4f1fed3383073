//! The shapes Duo sends, read with [`Scanner`]: a log page's envelope and an
//! auth event. Each function answers `None` for anything else (escaped keys
//! or text, numbers where text is expected, a field given twice, invalid
//! JSON, ...), and the caller then reads the input with serde_json, so both
//! paths give the same result: `Some` here only where serde_json would give
//! the same value (tests compare them on mutated inputs).
use super::{Location, NamedRef, RawAccessDevice, RawAuthDevice, RawAuthEvent};
use crate::json_scan::Scanner;
use crate::lenient::{Flag, Int, Str};

/// The events of a log page (each value's raw text) and the raw
/// `next_offset`, for a page shaped `{"stat":"OK","response":{"authlogs" or
/// "items":[...],"metadata":{"next_offset":...}}}` in any key order.
pub(super) fn log_page(body: &[u8]) -> Option<(Vec<&str>, Option<&str>)> {
    let mut s = Scanner::from_utf8(body)?;
    let (mut top, mut stat_ok) = (Fields::default(), false);
    let (mut events, mut next_offset) = (Vec::new(), None);
    s.object(|s, key| match key {
        "stat" => {
            top.first(0)?;
            stat_ok = s.plain_string()? == "OK";
            Some(())
        }
        "response" => {
            top.first(1)?;
            let mut response = Fields::default();
            s.object(|s, key| match key {
                "authlogs" | "items" => {
                    response.first(0)?;
                    s.array(|s| {
                        events.push(s.value()?);
                        Some(())
                    })
                }
                "metadata" => {
                    response.first(1)?;
                    let mut metadata = Fields::default();
                    s.object(|s, key| match key {
                        "next_offset" => {
                            metadata.first(0)?;
                            // serde reads `Option<&RawValue>`: null is None.
                            next_offset = if s.eat_literal("null") {
                                None
                            } else {
                                Some(s.value()?)
                            };
                            Some(())
                        }
                        _ => skip(s),
                    })
                }
                _ => skip(s),
            })
        }
        // Inventories' paging, not a log page's: the serde_json path reads it.
        "metadata" => None,
        _ => skip(s),
    })?;
    (stat_ok && top.has(1) && s.at_end()).then_some((events, next_offset))
}

/// One auth log event.
pub(super) fn auth_event(text: &str) -> Option<RawAuthEvent<'_>> {
    let mut s = Scanner::new(text);
    let (mut ev, mut seen) = (RawAuthEvent::default(), Fields::default());
    s.object(|s, key| {
        match key {
            "txid" => ev.txid = seen.first(0).and_then(|()| text_of(s))?,
            "timestamp" => ev.timestamp = seen.first(1).and_then(|()| int(s))?,
            "isotimestamp" => ev.isotimestamp = seen.first(2).and_then(|()| text_of(s))?,
            "event_type" => ev.event_type = seen.first(3).and_then(|()| text_of(s))?,
            "result" => ev.result = seen.first(4).and_then(|()| text_of(s))?,
            "reason" => ev.reason = seen.first(5).and_then(|()| text_of(s))?,
            "factor" => ev.factor = seen.first(6).and_then(|()| text_of(s))?,
            "email" => ev.email = seen.first(7).and_then(|()| text_of(s))?,
            "user" => ev.user = seen.first(8).and_then(|()| optional(s, named_ref))?,
            "application" => {
                ev.application = seen.first(9).and_then(|()| optional(s, named_ref))?
            }
            "access_device" => {
                ev.access_device = seen.first(10).and_then(|()| optional(s, access_device))?
            }
            "auth_device" => {
                ev.auth_device = seen.first(11).and_then(|()| optional(s, auth_device))?
            }
            _ => skip(s)?,
        }
        Some(())
    })?;
    s.at_end().then_some(ev)
}

fn named_ref<'a>(s: &mut Scanner<'a>) -> Option<NamedRef<'a>> {
    let (mut r, mut seen) = (NamedRef::default(), Fields::default());
    s.object(|s, key| {
        match key {
            "name" => r.name = seen.first(0).and_then(|()| text_of(s))?,
            "key" => r.key = seen.first(1).and_then(|()| text_of(s))?,
            _ => skip(s)?,
        }
        Some(())
    })?;
    Some(r)
}

fn location<'a>(s: &mut Scanner<'a>) -> Option<Location<'a>> {
    let (mut l, mut seen) = (Location::default(), Fields::default());
    s.object(|s, key| {
        match key {
            "city" => l.city = seen.first(0).and_then(|()| text_of(s))?,
            "state" => l.state = seen.first(1).and_then(|()| text_of(s))?,
            "country" => l.country = seen.first(2).and_then(|()| text_of(s))?,
            _ => skip(s)?,
        }
        Some(())
    })?;
    Some(l)
}

fn access_device<'a>(s: &mut Scanner<'a>) -> Option<RawAccessDevice<'a>> {
    let (mut d, mut seen) = (RawAccessDevice::default(), Fields::default());
    s.object(|s, key| {
        match key {
            "ip" => d.ip = seen.first(0).and_then(|()| text_of(s))?,
            "hostname" => d.hostname = seen.first(1).and_then(|()| text_of(s))?,
            "location" => d.location = seen.first(2).and_then(|()| optional(s, location))?,
            "os" => d.os = seen.first(3).and_then(|()| text_of(s))?,
            "os_version" => d.os_version = seen.first(4).and_then(|()| text_of(s))?,
            "browser" => d.browser = seen.first(5).and_then(|()| text_of(s))?,
            "browser_version" => d.browser_version = seen.first(6).and_then(|()| text_of(s))?,
            "epkey" => d.epkey = seen.first(7).and_then(|()| text_of(s))?,
            "is_encryption_enabled" => {
                d.is_encryption_enabled = seen.first(8).and_then(|()| flag(s))?
            }
            "is_firewall_enabled" => {
                d.is_firewall_enabled = seen.first(9).and_then(|()| flag(s))?
            }
            "is_password_set" => d.is_password_set = seen.first(10).and_then(|()| flag(s))?,
            _ => skip(s)?,
        }
        Some(())
    })?;
    Some(d)
}

fn auth_device<'a>(s: &mut Scanner<'a>) -> Option<RawAuthDevice<'a>> {
    let (mut d, mut seen) = (RawAuthDevice::default(), Fields::default());
    s.object(|s, key| {
        match key {
            "ip" => d.ip = seen.first(0).and_then(|()| text_of(s))?,
            "key" => d.key = seen.first(1).and_then(|()| text_of(s))?,
            "name" => d.name = seen.first(2).and_then(|()| text_of(s))?,
            "location" => d.location = seen.first(3).and_then(|()| optional(s, location))?,
            _ => skip(s)?,
        }
        Some(())
    })?;
    Some(d)
}

/// A [`Str`] field: plain text or null (numbers and the rest: serde_json).
fn text_of<'a>(s: &mut Scanner<'a>) -> Option<Str<'a>> {
    if s.eat_literal("null") {
        return Some(Str(None));
    }
    s.plain_string().map(Str::borrowed)
}

/// An [`Int`] field: a plain integer or null.
fn int(s: &mut Scanner) -> Option<Int> {
    if s.eat_literal("null") {
        return Some(Int(None));
    }
    s.plain_integer().map(|n| Int(Some(n)))
}

/// A [`Flag`] field: a boolean, null or plain text.
fn flag(s: &mut Scanner) -> Option<Flag> {
    if s.eat_literal("true") {
        Some(Flag(Some(true)))
    } else if s.eat_literal("false") {
        Some(Flag(Some(false)))
    } else if s.eat_literal("null") {
        Some(Flag(None))
    } else {
        s.plain_string()
            .map(|text| Flag::from_text(Str::borrowed(text).get()))
    }
}

/// An `Option` of a struct: null or the object.
fn optional<'a, T>(
    s: &mut Scanner<'a>,
    read: impl FnOnce(&mut Scanner<'a>) -> Option<T>,
) -> Option<Option<T>> {
    if s.eat_literal("null") {
        return Some(None);
    }
    read(s).map(Some)
}

/// A field this plugin does not read: checked and passed over.
fn skip(s: &mut Scanner) -> Option<()> {
    s.value().map(drop)
}

/// The known fields of one object seen so far: serde's derive refuses a
/// field given twice, so the fast path steps aside for that.
#[derive(Default)]
struct Fields(u32);

impl Fields {
    fn first(&mut self, field: u32) -> Option<()> {
        let bit = 1 << field;
        (self.0 & bit == 0).then(|| self.0 |= bit)
    }

    fn has(&self, field: u32) -> bool {
        self.0 & (1 << field) != 0
    }
}

#[cfg(test)]
mod tests;
