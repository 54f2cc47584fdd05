//! What a failed delivery means for the address: a hard bounce (the mailbox does not exist, a
//! 5xx answer about the recipient) blocks it at once; a soft one (mailbox full, greylisting,
//! a 4xx answer, anything unclassified) only after the policy's count of them — the mistake
//! of blocking everyone whose mailbox was full once, which Mautic makes (research §G).

/// How bad a failure is for the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounce {
    /// The address does not work: block it.
    Hard,
    /// Try again later; block after repeats.
    Soft,
    /// The recipient marked it as spam: block it.
    Complaint,
}

impl Bounce {
    /// Storage code (a suppression's reason, an event's detail).
    pub fn as_str(self) -> &'static str {
        match self {
            Bounce::Hard => "hard_bounce",
            Bounce::Soft => "soft_bounce",
            Bounce::Complaint => "complaint",
        }
    }

    /// Parses a code as reported through the bounce webhook (`hard`, `soft`, `complaint`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hard" | "hard_bounce" => Some(Bounce::Hard),
            "soft" | "soft_bounce" => Some(Bounce::Soft),
            "complaint" => Some(Bounce::Complaint),
            _ => None,
        }
    }

    /// Whether a temporary (4xx) reply is about the mailbox itself (full, over quota,
    /// unknown for now) rather than the server (throttling, greylisting).
    pub fn is_mailbox_soft(text: &str) -> bool {
        let t = text.to_ascii_lowercase();
        t.contains("4.2.2")
            || t.contains("4.1.")
            || t.contains("mailbox full")
            || t.contains("quota")
    }

    /// Classifies an SMTP reply to a recipient or to the message: 5xx with an enhanced status
    /// 5.1.x (bad mailbox or domain) is hard; 5.2.2 (mailbox full) and every 4xx are soft;
    /// another 5xx is hard only when the text says the user is unknown.
    pub fn from_smtp(code: u16, text: &str) -> Bounce {
        if code < 500 {
            return Bounce::Soft;
        }
        let t = text.to_ascii_lowercase();
        if t.contains("5.2.2") || t.contains("mailbox full") || t.contains("quota") {
            return Bounce::Soft;
        }
        if t.contains("5.1.") || matches!(code, 550 | 551 | 553) {
            return Bounce::Hard;
        }
        if t.contains("unknown user") || t.contains("no such user") || t.contains("does not exist")
        {
            return Bounce::Hard;
        }
        Bounce::Soft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_replies_are_classified() {
        assert_eq!(
            Bounce::from_smtp(550, "5.1.1 <x@y>: Recipient address rejected: User unknown"),
            Bounce::Hard
        );
        assert_eq!(Bounce::from_smtp(552, "5.2.2 Mailbox full"), Bounce::Soft);
        assert_eq!(
            Bounce::from_smtp(451, "4.7.1 Greylisted, try again"),
            Bounce::Soft
        );
        assert_eq!(
            Bounce::from_smtp(554, "5.7.1 Message rejected as spam"),
            Bounce::Soft
        );
        assert_eq!(Bounce::from_smtp(554, "no such user here"), Bounce::Hard);
    }
}
