//! The customer a row of an orders or interactions file is about: named by their Guanxi id or
//! by an identifying value already on file (mobile, email, WeChat id), normalised as stored.

use crate::contact::normalize;
use crate::import::orders::LineProblems;
use crate::vocabulary::ContactKind;

/// Fields that name the customer; a file must map one.
pub const BUYER_FIELDS: [&str; 4] = ["customer_id", "mobile", "email", "wechat"];

/// Whom a row names: the customer's id, or an identifying value (`mobile`, `email`,
/// `wechat`, normalised as stored) to be found on file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BuyerKey {
    /// A Guanxi customer id.
    Id(i64),
    /// What (`mobile`, `email`, `wechat`) and the normalised value.
    Contact(&'static str, String),
}

/// The customer a row names, with the file's column that names them: the id when given,
/// else the first of mobile, email and WeChat id. A malformed value is a problem of its column;
/// a row naming nobody is `buyer_not_mapped`.
pub fn buyer_of(
    get: &dyn Fn(&str) -> Option<(String, String)>,
    errs: &mut LineProblems,
) -> Option<(BuyerKey, String)> {
    let take = |field: &str| get(field).filter(|(_, v)| !v.trim().is_empty());
    let before = errs.len();
    let mut buyer = None;
    if let Some((col, v)) = take("customer_id") {
        match v.trim().parse::<i64>() {
            Ok(id) if id > 0 => buyer = Some((BuyerKey::Id(id), col)),
            _ => errs.push((col, "invalid_reference")),
        }
    }
    for (field, kind) in [
        ("mobile", ContactKind::Mobile),
        ("email", ContactKind::Email),
        ("wechat", ContactKind::Wechat),
    ] {
        let Some((col, v)) = take(field) else {
            continue;
        };
        match normalize(kind, &v) {
            Ok(n) if buyer.is_none() => {
                buyer = Some((BuyerKey::Contact(field, n.normalized), col));
            }
            Ok(_) => {}
            Err(code) => errs.push((col, code)),
        }
    }
    if buyer.is_none() && errs.len() == before {
        errs.push(("customer".into(), "buyer_not_mapped"));
    }
    buyer.filter(|_| errs.len() == before)
}
