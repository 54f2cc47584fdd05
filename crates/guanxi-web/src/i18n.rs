//! Message catalogue, zh-CN and en. Codes are stable identifiers (validation codes from the
//! domain, error codes from this crate); this is the only place that turns them into words.

/// A UI / API language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English.
    En,
}

impl Locale {
    /// Picks the first supported language from an `Accept-Language` header; `None` if none is.
    pub fn from_accept_language(h: &str) -> Option<Self> {
        let mut langs: Vec<(f32, &str)> = h
            .split(',')
            .filter_map(|part| {
                let mut it = part.trim().split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse().ok()))
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        langs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        langs.into_iter().find_map(|(_, t)| Self::from_code(t))
    }

    /// Parses `zh-CN`, `zh`, `en`, `en-US` …
    pub fn from_code(code: &str) -> Option<Self> {
        let c = code.to_ascii_lowercase();
        if c.starts_with("zh") {
            Some(Self::ZhCn)
        } else if c.starts_with("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }
}

/// The localised text for a code; unknown codes fall back to a generic message, never to an
/// empty string.
pub fn message(locale: Locale, code: &str) -> &'static str {
    let (zh, en) = match code {
        // Request-level errors.
        "validation_failed" => (
            "输入有误，请检查标出的字段。",
            "Some fields are invalid; please check them.",
        ),
        "malformed_json" => (
            "请求内容不是有效的 JSON，或字段类型不对。",
            "The request body is not valid JSON or has a field of the wrong type.",
        ),
        "unauthenticated" => ("请先登录。", "Please sign in."),
        "invalid_credentials" => ("用户名或密码不正确。", "Wrong username or password."),
        "forbidden" => (
            "您没有执行此操作的权限。",
            "You do not have permission to do this.",
        ),
        "not_found" => (
            "找不到该记录，或您无权查看。",
            "Not found, or you may not see it.",
        ),
        "no_route" => ("没有这个接口。", "There is no such endpoint."),
        "method_not_allowed" => (
            "该接口不支持此方法。",
            "This endpoint does not support that method.",
        ),
        "conflict" => (
            "该记录已被他人修改，请刷新后再试。",
            "This record was changed by someone else; reload and try again.",
        ),
        "duplicate" => ("该值已被使用。", "That value is already taken."),
        "duplicate_in_file" => (
            "与文件中前面的一行是同一个号码或证件。",
            "Same number or ID as an earlier row of the file.",
        ),
        "ambiguous_duplicate" => (
            "与多位已有客户相同，无法确定更新哪一位。",
            "Matches several existing customers; cannot tell which to update.",
        ),
        "possible_duplicate" => (
            "已有客户使用这个号码或证件，可能是同一位客户。",
            "A customer already has this; it may be the same customer.",
        ),
        "payload_too_large" => ("请求内容过大。", "The request is too large."),
        "unsupported_media_type" => (
            "请以 application/json 提交。",
            "Send the body as application/json.",
        ),
        "too_many_requests" => (
            "尝试次数过多，请稍后再试。",
            "Too many attempts; try again later.",
        ),
        "csrf_failed" => (
            "安全校验失败，请刷新页面后重试。",
            "Security check failed; reload the page and try again.",
        ),
        "internal_error" => (
            "服务器出错了，已记录，请稍后再试。",
            "Something went wrong on our side; it has been logged.",
        ),
        "bad_query" => ("查询参数有误。", "A query parameter is invalid."),
        // Field-level validation codes.
        "required" => ("必填。", "Required."),
        "too_long" => ("太长了。", "Too long."),
        "too_many" => ("条目太多。", "Too many entries."),
        "invalid_characters" => (
            "包含不允许的字符。",
            "Contains characters that are not allowed.",
        ),
        "invalid_phone" => ("电话号码无效。", "Not a valid phone number."),
        "invalid_email" => ("邮箱地址无效。", "Not a valid email address."),
        "invalid_wechat" => (
            "微信号无效（6–20 位，字母开头）。",
            "Not a valid WeChat id (6–20 characters, starting with a letter).",
        ),
        "invalid_qq" => ("QQ 号无效。", "Not a valid QQ number."),
        "invalid_id_number" => (
            "证件号码无效（身份证校验位不符？）。",
            "Not a valid ID number (check digit wrong?).",
        ),
        "unknown_value" => ("不是允许的取值。", "Not one of the allowed values."),
        "unknown_field" => ("不认识的字段。", "Unknown field."),
        "invalid_type" => ("类型不对。", "Wrong type."),
        "in_future" => ("不能是将来的日期。", "Cannot be in the future."),
        "invalid_date" => ("日期无效。", "Not a valid date."),
        "out_of_range" => ("超出允许范围。", "Out of range."),
        "before_start" => ("结束不能早于开始。", "Ends before it starts."),
        "negative" => ("不能为负数。", "Cannot be negative."),
        "not_for_individual" => ("个人客户不适用此项。", "Does not apply to an individual."),
        "not_for_company" => ("企业客户不适用此项。", "Does not apply to a company."),
        "invalid_reference" => (
            "引用的记录不存在或不可见。",
            "Refers to a record that does not exist or that you may not see.",
        ),
        "invalid_tag" => ("标签需为 1–50 个字符。", "Tags must be 1–50 characters."),
        "unknown_section" => ("没有这个资料分区。", "No such profile section."),
        "invalid_currency" => (
            "币种需为三位大写字母（如 CNY）。",
            "Currency must be three capital letters (e.g. CNY).",
        ),
        "amount_overflow" => ("金额超出范围。", "Amount out of range."),
        "self_relation" => (
            "不能与自己建立关系。",
            "A customer cannot be related to itself.",
        ),
        "principal_must_be_individual" => (
            "负责人必须是个人客户。",
            "A principal must be an individual.",
        ),
        "principal_of_needs_company" => (
            "只能担任企业客户的负责人。",
            "Principal-of must point to a company.",
        ),
        "needs_individuals" => (
            "此关系仅适用于个人客户。",
            "This relation is for individuals only.",
        ),
        "only_for_principal" => (
            "角色仅用于负责人关系。",
            "A role applies to principal relations only.",
        ),
        "invalid_username" => (
            "用户名需为 3–50 位小写字母、数字或 ._-。",
            "Usernames are 3–50 of a–z, 0–9, . _ -.",
        ),
        "password_too_short" => (
            "密码至少 10 个字符。",
            "Passwords need at least 10 characters.",
        ),
        "immutable" => ("创建后不能修改。", "Cannot be changed after creation."),
        "self_merge" => ("不能与自己合并。", "Cannot merge a record with itself."),
        "self_lockout" => (
            "不能停用自己的账号或取消自己的管理员角色，请让另一位管理员操作。",
            "You cannot deactivate your own account or drop your own admin role; ask another admin.",
        ),
        "kind_mismatch" => (
            "只能合并同类客户。",
            "Only customers of the same kind can be merged.",
        ),
        "invalid_merge" => (
            "这两条记录无法按所选字段合并。",
            "These two records cannot be merged with the chosen fields.",
        ),
        "already_undone" => ("这次合并已经撤销过了。", "This merge has already been undone."),
        "undo_expired" => (
            "合并超过 30 天，不能再撤销。",
            "This merge is more than 30 days old and can no longer be undone.",
        ),
        "loser_changed" => (
            "被合并的客户此后又被合并或删除，不能撤销。",
            "The merged-away customer has since been merged on or erased; the merge cannot be undone.",
        ),
        "invalid_cursor" => ("分页游标无效。", "Invalid page cursor."),
        "job_state" => (
            "这个任务当前的状态不允许此操作：只能重试失败或已取消的任务，只能取消排队中的任务。",
            "The job's state does not allow this: only failed or cancelled jobs can be retried, only queued ones cancelled.",
        ),
        "job_active" => (
            "同类任务已在排队或运行中，它会完成这项工作。",
            "An equal job is already queued or running; it will do this work.",
        ),
        "unknown_op" => (
            "这个字段不能用这个条件。",
            "This condition does not apply to this field.",
        ),
        "not_allowed" => ("这个字段不适用天数。", "Days do not apply to this field."),
        "not_a_number" => ("请填写数字。", "Enter a number."),
        "not_a_month" => (
            "请按 YYYY-MM 填写月份，如 2026-03。",
            "Enter a month as YYYY-MM, e.g. 2026-03.",
        ),
        "too_deep" => ("条件组最多嵌套三层。", "Groups nest at most three deep."),
        "too_many_clauses" => ("条件最多 40 条。", "At most 40 conditions."),
        "too_many_values" => ("最多 100 个取值。", "At most 100 values."),
        _ => ("输入有误。", "Invalid input."),
    };
    match locale {
        Locale::ZhCn => zh,
        Locale::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("fr;q=1, en-US;q=0.5, zh;q=0.3"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("fr"), None);
    }

    #[test]
    fn every_domain_code_has_both_languages() {
        for code in ["invalid_phone", "required", "invalid_id_number", "conflict"] {
            assert_ne!(
                message(Locale::En, code),
                message(Locale::En, "no-such-code")
            );
            assert_ne!(
                message(Locale::ZhCn, code),
                message(Locale::ZhCn, "no-such-code")
            );
        }
    }
}
