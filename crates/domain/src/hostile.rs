//! Strategies of hostile input for the property tests of the value types: text a client could
//! send (any unicode, control characters, odd blanks, huge lengths) and integers with their
//! edges drawn often. Test-only.

use proptest::prelude::*;

/// Any text: arbitrary unicode (control characters included), short strings of blanks,
/// controls and invisible characters, and a few very long runs of one character.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[\\s\\x00-\\x1F\\x7F\u{85}\u{A0}\u{200B}\u{2028}\u{FEFF}a-zA-Z0-9é-]{0,12}",
        1 => (any::<char>(), 0..70_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// Any `i64`, with 0, ±1, the extremes and each of `bounds` (and its neighbours) drawn often.
pub(crate) fn integer(bounds: &[i64]) -> impl Strategy<Value = i64> + use<> {
    let mut edges = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    for &bound in bounds {
        edges.extend([bound.saturating_sub(1), bound, bound.saturating_add(1)]);
    }
    prop_oneof![any::<i64>(), prop::sample::select(edges), -1_000..1_000i64]
}
