//! A client's family from its `User-Agent`, for the security events: enough for a person to
//! recognise their own browser ("Chrome on Linux"), never the whole string.

/// "Browser on OS" for browsers; otherwise the first product name ("curl", "node"), cut short.
pub fn family(user_agent: &str) -> String {
    let has = |s: &str| user_agent.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chrome/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        ""
    };
    let os = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPad") {
        "iOS"
    } else if has("Windows") {
        "Windows"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Macintosh") || has("Mac OS X") {
        "macOS"
    } else if has("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, os) {
        ("", _) => {
            let product: String = user_agent
                .split(['/', ' '])
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .take(40)
                .collect();
            if product.is_empty() { "Unknown client".to_owned() } else { product }
        }
        (browser, "") => browser.to_owned(),
        (browser, os) => format!("{browser} on {os}"),
    }
}

#[cfg(test)]
mod tests {
    use super::family;

    #[test]
    fn browsers_are_named_with_their_system_and_other_clients_by_their_product() {
        for (ua, expected) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", "Firefox on Android"),
            ("curl/8.5.0", "curl"),
            ("node", "node"),
            ("<script>", "script"),
            ("", "Unknown client"),
        ] {
            assert_eq!(family(ua), expected, "{ua}");
        }
    }
}
