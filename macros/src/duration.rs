//! Durations written as strings: `"2s"`, `"500ms"`, `"1.5s"`, `"2m"`.

use std::time::Duration;

/// The units a duration may use, with their length in nanoseconds.
const UNITS: [(&str, f64); 5] = [
    ("ms", 1e6),
    ("us", 1e3),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Parses `"<number><unit>"` (`ms`, `us`, `s`, `m`, `h`; the number may have a fraction).
/// `None` if the text is not of that form or the duration is zero.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let nanos_per_unit = UNITS.iter().find(|(name, _)| *name == unit.trim())?.1;
    let number: f64 = number.parse().ok()?;
    let nanos = number * nanos_per_unit;
    (nanos.is_finite() && nanos >= 1.0 && nanos < u64::MAX as f64)
        .then(|| Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse("250us"), Some(Duration::from_micros(250)));
    }

    #[test]
    fn refuses_everything_else() {
        for text in ["", "2", "s", "2 sec", "-1s", "0s", "1.2.3s", "two seconds"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
