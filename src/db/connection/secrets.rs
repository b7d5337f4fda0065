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

/// How much of what a server said we show: enough for its reason, not a page of HTML.
const SERVER_TEXT_LIMIT: usize = 500;

/// What a server said (an API error message), fit for one line of our output: secrets redacted,
/// line breaks and other control characters as spaces (a newline would end a `::warning::`
/// workflow command and let the server's text start one of its own), and cut at
/// [`SERVER_TEXT_LIMIT`] characters. Redacted before it is cut, so no secret is cut in half.
pub fn redact_server_text<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let one_line = one_line(&redact_secrets(text, secrets));
    match one_line.char_indices().nth(SERVER_TEXT_LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// `text` with its line breaks and other control characters as single spaces.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .filter(|part| !part.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_redacted_before_it_is_cut_to_one_line() {
        let token = "ghs_straddlingToken";
        // The token straddles the cut: cutting first would show its first half.
        let text = format!("{}\n{token} rejected", "a".repeat(SERVER_TEXT_LIMIT - 5));
        let shown = redact_server_text(&text, [token]);
        assert!(!shown.contains("ghs_"), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.ends_with('…'), "{shown}");
        assert_eq!(
            redact_server_text("Bad\r\n  credentials\t(ghs_straddlingToken)", [token]),
            "Bad credentials (***)"
        );
    }
}
