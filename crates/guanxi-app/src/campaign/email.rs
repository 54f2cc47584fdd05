//! A campaign e-mail as it leaves: plain text and HTML alternatives, links rewritten through
//! the click redirect (marketing only: a transactional message's links stay as written), an open pixel when the campaign tracks opens, a one-click unsubscribe
//! (RFC 8058 `List-Unsubscribe` + `List-Unsubscribe-Post`) on every marketing message, and a
//! Message-ID derived from the outbox row, the same on every attempt, so a receiver can drop
//! a repeat sent after a crash.

use guanxi_domain::campaign::Rendered;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

/// Where a message's links point (the server's public address and the message's token).
#[derive(Debug, Clone)]
pub struct Links<'a> {
    /// `https://crm.example.com`, no trailing slash.
    pub base: &'a str,
    /// The outbox row's token.
    pub token: &'a str,
}

impl Links<'_> {
    /// The unsubscribe page.
    pub fn unsubscribe(&self) -> String {
        format!("{}/u/{}", self.base, self.token)
    }

    /// The open pixel.
    pub fn pixel(&self) -> String {
        format!("{}/t/o/{}", self.base, self.token)
    }

    /// The click redirect to `target`.
    pub fn click(&self, target: &str) -> String {
        format!(
            "{}/t/c/{}?u={}",
            self.base,
            self.token,
            url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
        )
    }
}

/// The links (`http://`, `https://`) in a text, in order, without trailing punctuation.
pub fn links(text: &str) -> Vec<&str> {
    spans(text).into_iter().map(|(s, e)| &text[s..e]).collect()
}

fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let found = [rest.find("https://"), rest.find("http://")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = found else { break };
        let start = i + at;
        let mut end = start;
        for (j, c) in text[start..].char_indices() {
            if c.is_whitespace() || !c.is_ascii() || matches!(c, '"' | '<' | '>') {
                break;
            }
            end = start + j + c.len_utf8();
        }
        while end > start
            && matches!(
                text.as_bytes()[end - 1],
                b'.' | b',' | b';' | b':' | b'!' | b'?' | b')'
            )
        {
            end -= 1;
        }
        if end > start + 8 {
            out.push((start, end));
        }
        i = end.max(start + 1);
    }
    out
}

/// Where a link in the body points: through the click redirect in a marketing message; as
/// written in a transactional one (a survey link is personal and goes nowhere else).
fn target(l: &Links, link: &str, marketing: bool) -> String {
    if marketing {
        l.click(link)
    } else {
        link.to_string()
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>\n"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part: the body escaped, links through the redirect, the unsubscribe footer and
/// (when tracked) the pixel.
pub fn html(body: &str, l: &Links, marketing: bool, track_opens: bool, lang: &str) -> String {
    let mut out = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><div style=\"font-family:sans-serif;line-height:1.6\">",
    );
    let mut last = 0;
    for (s, e) in spans(body) {
        out.push_str(&escape(&body[last..s]));
        out.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape(&target(l, &body[s..e], marketing)),
            escape(&body[s..e])
        ));
        last = e;
    }
    out.push_str(&escape(&body[last..]));
    out.push_str("</div>");
    if marketing {
        let label = if lang == "en" {
            "Unsubscribe"
        } else {
            "退订"
        };
        out.push_str(&format!(
            "<p style=\"font-size:12px;color:#888\"><a href=\"{}\">{label}</a></p>",
            escape(&l.unsubscribe())
        ));
    }
    if track_opens {
        out.push_str(&format!(
            "<img src=\"{}\" width=\"1\" height=\"1\" alt=\"\">",
            escape(&l.pixel())
        ));
    }
    out.push_str("</body></html>");
    out
}

/// The plain-text part: the body with links through the redirect, and the unsubscribe line.
pub fn plain(body: &str, l: &Links, marketing: bool, lang: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (s, e) in spans(body) {
        out.push_str(&body[last..s]);
        out.push_str(&target(l, &body[s..e], marketing));
        last = e;
    }
    out.push_str(&body[last..]);
    if marketing {
        let label = if lang == "en" {
            "Unsubscribe"
        } else {
            "退订"
        };
        out.push_str(&format!("\n\n{label}: {}\n", l.unsubscribe()));
    }
    out
}

/// The Message-ID of an outbox row's message: the same on every attempt.
pub fn message_id(token: &str, from: &Mailbox) -> String {
    format!("<{token}@{}>", from.email.domain())
}

/// Builds the message. `Err` only for an address lettre cannot parse (a bad stored address:
/// the message fails for good).
#[allow(clippy::too_many_arguments)]
pub fn build(
    from: &Mailbox,
    to: &str,
    r: &Rendered,
    lang: &str,
    l: &Links,
    marketing: bool,
    track_opens: bool,
    message_id: &str,
) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("address: {e}"))?;
    let mut m = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(r.subject.clone())
        .message_id(Some(message_id.to_string()))
        .multipart(MultiPart::alternative_plain_html(
            plain(&r.body, l, marketing, lang),
            html(&r.body, l, marketing, track_opens, lang),
        ))
        .map_err(|e| e.to_string())?;
    if marketing {
        let h = m.headers_mut();
        h.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", l.unsubscribe()),
        ));
        h.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_string(),
        ));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_without_trailing_punctuation() {
        let t = "中秋礼盒：https://shop.example.com/mid?x=1&y=2。详情见 http://a.cn/b).";
        assert_eq!(
            links(t),
            ["https://shop.example.com/mid?x=1&y=2", "http://a.cn/b"]
        );
    }

    #[test]
    fn html_escapes_and_tracks() {
        let l = Links {
            base: "https://crm.test",
            token: "0123456789abcdef0123456789abcdef",
        };
        let h = html("<b>hi</b> https://x.cn/a?b=1&c=2", &l, true, true, "zh-CN");
        assert!(h.contains("&lt;b&gt;hi&lt;/b&gt;"));
        assert!(h.contains(
            "href=\"https://crm.test/t/c/0123456789abcdef0123456789abcdef?u=https%3A%2F%2Fx.cn%2Fa%3Fb%3D1%26c%3D2\""
        ));
        assert!(h.contains("/u/0123456789abcdef0123456789abcdef"));
        assert!(h.contains("/t/o/0123456789abcdef0123456789abcdef"));
        let p = plain("see https://x.cn", &l, true, "en");
        assert!(
            p.starts_with(
                "see https://crm.test/t/c/0123456789abcdef0123456789abcdef?u=https%3A%2F%2Fx.cn"
            ),
            "{p}"
        );
        // A transactional message's links are left as they are.
        let p = plain("answer: https://crm.test/s/abc", &l, false, "en");
        assert_eq!(p, "answer: https://crm.test/s/abc");
    }
}
