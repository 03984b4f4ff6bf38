//! Timestamps as every output writes them: RFC 3339, UTC, with a `Z`.

use chrono::DateTime;

/// `2016-07-26T02:00:00Z` for epoch seconds.
pub fn rfc3339(secs: i64) -> String {
    match DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => secs.to_string(),
    }
}

/// `2016-07-26 02:00` for tables and chart axes.
pub fn short(secs: i64) -> String {
    match DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => secs.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_with_z() {
        assert_eq!(super::rfc3339(1469498400), "2016-07-26T02:00:00Z");
        assert_eq!(super::rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(super::short(1469501107), "2016-07-26 02:45");
    }
}
