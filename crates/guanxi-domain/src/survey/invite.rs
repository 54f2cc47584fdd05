//! The message that carries a survey link: the invitation and its one reminder, in the
//! customer's language, addressed politely (王先生, Ms Smith). The link itself is filled in as
//! the message leaves ([`LINK`]): until then the outbox holds only a placeholder.

use crate::campaign::content::{is_chinese_name, salutation};

/// Where the personal link goes in the body.
pub const LINK: &str = "{{survey_link}}";

/// The SMS template parameter that carries the link.
pub const SMS_LINK_PARAM: &str = "url";

/// A survey message's subject and body (the body holds [`LINK`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteText {
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// `zh-CN` or `en`.
    pub lang: &'static str,
}

/// The language a customer is written to in: Chinese for a name in Chinese characters.
pub fn language_of(name: &str) -> &'static str {
    if is_chinese_name(name) {
        "zh-CN"
    } else {
        "en"
    }
}

/// The invitation (or, with `reminder`, the reminder) to `survey` for a customer, whose link
/// lives `days` days.
pub fn invite_text(
    survey: &str,
    name: &str,
    gender: Option<&str>,
    days: i64,
    reminder: bool,
) -> InviteText {
    let lang = language_of(name);
    let who = salutation(name, gender, lang);
    let (subject, body) = if lang == "en" {
        (
            if reminder {
                format!("Reminder: {survey}")
            } else {
                format!("{survey}: how did we do?")
            },
            format!(
                "Dear {who},\n\n{}Would you take a minute to tell us how we did? Your answer helps us serve you better.\n\n{LINK}\n\nThe link is yours alone, works for {days} days and takes one answer.",
                if reminder {
                    "A few days ago we asked for your opinion. "
                } else {
                    "Thank you for your business. "
                }
            ),
        )
    } else {
        (
            if reminder {
                format!("提醒：{survey}")
            } else {
                format!("{survey}：请告诉我们您的感受")
            },
            format!(
                "{who}您好：\n\n{}请花一分钟告诉我们您的感受，帮助我们把服务做得更好。\n\n{LINK}\n\n此链接仅供您本人使用，{days} 天内有效，可提交一次。",
                if reminder {
                    "前几天我们邀请您评价我们的服务，"
                } else {
                    "感谢您的信任。"
                }
            ),
        )
    };
    InviteText {
        subject,
        body,
        lang,
    }
}

/// The body with the link filled in.
pub fn with_link(body: &str, link: &str) -> String {
    body.replace(LINK, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_are_polite_in_the_customers_language() {
        let t = invite_text("售后满意度", "王伟", Some("male"), 14, false);
        assert_eq!(t.lang, "zh-CN");
        assert_eq!(t.subject, "售后满意度：请告诉我们您的感受");
        assert!(t.body.starts_with("王先生您好："), "{}", t.body);
        assert!(t.body.contains("14 天内有效") && t.body.contains(LINK));
        let r = invite_text("After-sales survey", "Emily Chen", Some("female"), 7, true);
        assert_eq!(r.lang, "en");
        assert_eq!(r.subject, "Reminder: After-sales survey");
        assert!(r.body.starts_with("Dear Ms Chen,"), "{}", r.body);
        assert_eq!(
            with_link("go: {{survey_link}}", "https://crm.test/s/abc"),
            "go: https://crm.test/s/abc"
        );
    }
}
