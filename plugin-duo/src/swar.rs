//! Byte tests eight at a time on a `u64` ("SIMD within a register"). In the
//! sandbox every loop turn costs an epoch check, so the hot scans of auth
//! pages test a word per turn instead of a byte.

/// `0x0101…01`: a byte value times this is that byte in every lane.
pub const ONES: u64 = u64::MAX / 255;
/// The high bit of every byte: where the tests below put their answers.
pub const HIGH_BITS: u64 = ONES << 7;

/// The word at `pos` (little-endian, so the lowest byte comes first), if
/// eight bytes are there.
#[inline(always)]
pub fn word_at(bytes: &[u8], pos: usize) -> Option<u64> {
    // `pos` is a position in `bytes` (or a word past one): no overflow.
    let chunk = bytes.get(pos..pos + 8)?;
    Some(u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
}

/// The high bit of each byte of `word` equal to `byte`; exact in every lane.
#[inline(always)]
pub fn bytes_equal_to(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    // Per lane: (low 7 bits + 0x7f) sets the high bit unless they are all
    // zero, and cannot carry into the next lane.
    !(((x & !HIGH_BITS) + !HIGH_BITS) | x) & HIGH_BITS
}

/// The high bit of each ASCII byte of `word` in `low..=high` (both ASCII);
/// exact in every lane.
#[inline(always)]
pub fn ascii_bytes_in(word: u64, low: u8, high: u8) -> u64 {
    debug_assert!(low <= high && high < 0x80);
    let low7 = word & !HIGH_BITS;
    // Per lane: low7 + (0x80 - b) reaches the high bit iff low7 >= b; at
    // most 0xff, so no carry into the next lane.
    let at_least = |b: u8| (low7 + ONES * u64::from(0x80 - b)) & HIGH_BITS;
    let at_most = !at_least(high + 1) & HIGH_BITS;
    at_least(low) & at_most & !word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lane_is_tested_exactly() {
        for byte in 0..=255u8 {
            for lane in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[lane] = byte;
                let word = u64::from_le_bytes(bytes);
                let only_lane = 0x80u64 << (lane * 8);
                for probe in [b'"', b'-', b' ', 0x00, 0xff] {
                    let expect = if byte == probe { only_lane } else { 0 };
                    assert_eq!(
                        bytes_equal_to(word, probe),
                        expect,
                        "{byte:#x} in lane {lane}"
                    );
                }
                let capital = if byte.is_ascii_uppercase() {
                    only_lane
                } else {
                    0
                };
                assert_eq!(ascii_bytes_in(word, b'A', b'Z'), capital, "{byte:#x}");
            }
        }
        assert_eq!(word_at(b"0123456", 0), None);
        assert_eq!(
            word_at(b"01234567", 0),
            Some(u64::from_le_bytes(*b"01234567"))
        );
    }
}
