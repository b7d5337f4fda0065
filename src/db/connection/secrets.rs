//! Keeping secrets out of what we print: whatever a server, pg_dump or an HTTP API says back may
//! quote the password, token or hook URL it was given.

/// Replace every secret in `text` with `***`: what a server or tool says back may quote the
/// password, token or hook URL it was given.
pub fn redact_secrets<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    // Masking a two-letter secret would garble every message; servers rarely echo secrets
    // anyway, this is the second line of defence.
    let mut secrets: Vec<&str> = secrets
        .into_iter()
        .map(str::trim)
        .filter(|s| s.chars().count() >= 4)
        .collect();
    // Longest first: a URL contains its password or its hook id.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .iter()
        .fold(text.to_string(), |text, secret| text.replace(secret, "***"))
}
