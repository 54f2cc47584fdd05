//! Customer names and the search keys derived from them. A rep types "zhangsan", "zs", "张",
//! "三" or "Smith" at a touchpoint; each must find the customer through an index. We derive the
//! keys once, at write time, so identification is a range scan rather than a table scan.

use pinyin::ToPinyin;

/// Longest name accepted; longer input is almost certainly pasted garbage.
pub const MAX_NAME_CHARS: usize = 200;

/// A validated, trimmed customer name with its pinyin renderings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName {
    name: String,
    pinyin: String,
    initials: String,
}

impl CustomerName {
    /// Validates and derives pinyin. Whitespace is collapsed; control characters are refused.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err("required");
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err("too_long");
        }
        if name.chars().any(char::is_control) {
            return Err("invalid_characters");
        }
        let (pinyin, initials) = pinyin_of(&name);
        Ok(Self {
            name,
            pinyin,
            initials,
        })
    }

    /// The name as the customer writes it.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Full toneless pinyin without spaces ("zhangsan"); empty when the name has no Han characters.
    pub fn pinyin(&self) -> &str {
        &self.pinyin
    }

    /// Pinyin initials ("zs"); empty when the name has no Han characters.
    pub fn initials(&self) -> &str {
        &self.initials
    }

    /// The key customer lists sort names by, so 张三 files under Z beside Zhang Wei and not
    /// after every Latin name by code point: each Han character becomes its toneless syllable,
    /// other letters and digits are lower-cased, and words end with `0`, which sorts before any
    /// letter (so 詹 "zhan" comes before 张 "zhang", and 张三 before 张三丰) under byte order.
    pub fn sort_key(&self) -> String {
        name_sort_key(&self.name)
    }

    /// Every key under which this name should be found by a prefix lookup.
    pub fn search_keys(&self) -> Vec<SearchKey> {
        search_keys(&self.name, &self.pinyin, &self.initials)
    }
}

/// Which rendering of the name a search key came from; it decides how well a hit ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchKeyKind {
    /// The whole name, lower-cased.
    Name,
    /// A suffix of the name (so a prefix lookup on suffixes finds any substring).
    NamePart,
    /// Full pinyin.
    Pinyin,
    /// Pinyin of the given name only ("san" for 张三), for reps who drop the surname.
    PinyinPart,
    /// Pinyin initials.
    Initials,
}

impl SearchKeyKind {
    /// Storage code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NamePart => "name_part",
            Self::Pinyin => "pinyin",
            Self::PinyinPart => "pinyin_part",
            Self::Initials => "initials",
        }
    }

    /// Parses a storage code.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "name" => Self::Name,
            "name_part" => Self::NamePart,
            "pinyin" => Self::Pinyin,
            "pinyin_part" => Self::PinyinPart,
            "initials" => Self::Initials,
            _ => return None,
        })
    }
}

/// One derived key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    /// Normalised key text (lower-case, no spaces for pinyin).
    pub key: String,
    /// Where it came from.
    pub kind: SearchKeyKind,
}

/// Normalises free text the way keys are normalised, so queries and keys compare equal.
pub fn normalize_query(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The forms of a normalised text query to look up: as typed, and, for letters typed with
/// spaces ("zhang qiang", "huang yong"), the run-together form pinyin keys are stored in. A
/// Latin name ("john smith") is found by its first form, pinyin by its second.
pub fn query_forms(normalized: &str) -> Vec<String> {
    let mut forms = vec![normalized.to_string()];
    if normalized.contains(' ')
        && normalized
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'')
    {
        forms.push(
            normalized
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .collect(),
        );
    }
    forms
}

fn name_sort_key(name: &str) -> String {
    let mut key = String::new();
    let mut in_word = false;
    for (ch, py) in name.chars().zip(name.to_pinyin()) {
        match py {
            Some(p) => {
                if in_word {
                    key.push('0');
                }
                key.push_str(p.plain());
                key.push('0');
                in_word = false;
            }
            None if ch.is_alphanumeric() => {
                key.extend(ch.to_lowercase());
                in_word = true;
            }
            None => {
                if in_word {
                    key.push('0');
                }
                in_word = false;
            }
        }
    }
    if in_word {
        key.push('0');
    }
    key
}

fn pinyin_of(name: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    let mut any_han = false;
    for (ch, py) in name.chars().zip(name.to_pinyin()) {
        match py {
            Some(p) => {
                any_han = true;
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if ch.is_ascii_alphanumeric() => {
                full.push(ch.to_ascii_lowercase());
            }
            None => {}
        }
    }
    if any_han {
        (full, initials)
    } else {
        (String::new(), String::new())
    }
}

fn search_keys(name: &str, pinyin: &str, initials: &str) -> Vec<SearchKey> {
    let lower = normalize_query(name);
    let mut keys = vec![SearchKey {
        key: lower.clone(),
        kind: SearchKeyKind::Name,
    }];
    let chars: Vec<char> = lower.chars().collect();
    let has_han = !pinyin.is_empty();
    if has_han {
        // Suffixes of a Chinese name: 张三丰 → 三丰, 丰. Names are short, so this stays small.
        for start in 1..chars.len().min(8) {
            let part: String = chars[start..].iter().collect();
            if !part.trim().is_empty() {
                keys.push(SearchKey {
                    key: part.trim().to_string(),
                    kind: SearchKeyKind::NamePart,
                });
            }
        }
        keys.push(SearchKey {
            key: pinyin.to_string(),
            kind: SearchKeyKind::Pinyin,
        });
        keys.push(SearchKey {
            key: initials.to_string(),
            kind: SearchKeyKind::Initials,
        });
        // Given-name pinyin: everything after the first Han character's syllable.
        if let Some(first) = name.chars().next().and_then(|c| c.to_pinyin()) {
            let rest = &pinyin[first.plain().len().min(pinyin.len())..];
            if !rest.is_empty() {
                keys.push(SearchKey {
                    key: rest.to_string(),
                    kind: SearchKeyKind::PinyinPart,
                });
            }
        }
    } else {
        // Latin names: each later word ("smith" in "john smith") and the initials ("js").
        let words: Vec<&str> = lower.split(' ').collect();
        for w in words.iter().skip(1) {
            keys.push(SearchKey {
                key: (*w).to_string(),
                kind: SearchKeyKind::NamePart,
            });
        }
        if words.len() > 1 {
            let ini: String = words.iter().filter_map(|w| w.chars().next()).collect();
            keys.push(SearchKey {
                key: ini,
                kind: SearchKeyKind::Initials,
            });
        }
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key).then((a.kind as u8).cmp(&(b.kind as u8))));
    keys.dedup_by(|a, b| a.key == b.key);
    keys.retain(|k| !k.key.is_empty());
    keys
}

/// Whether `c` is a Chinese character (CJK unified ideographs and their extensions, the
/// compatibility block): the one test for "written in Chinese" (search terms, a name's
/// language).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_pinyin_beside_latin_names() {
        let mut names = [
            "张三丰",
            "Zhang Wei",
            "王五",
            "詹姆",
            "张三",
            "Alice Wu",
            "阿明",
            "章三",
        ];
        names.sort_by_key(|n| CustomerName::parse(n).unwrap().sort_key());
        assert_eq!(
            names,
            [
                "阿明",
                "Alice Wu",
                "王五",
                "詹姆",
                "张三",
                "章三",
                "张三丰",
                "Zhang Wei"
            ]
        );
        assert_eq!(
            CustomerName::parse("张三").unwrap().sort_key(),
            "zhang0san0"
        );
        assert_eq!(
            CustomerName::parse("John  Smith").unwrap().sort_key(),
            "john0smith0"
        );
    }

    #[test]
    fn spaced_pinyin_is_also_looked_up_run_together() {
        assert_eq!(
            query_forms("zhang qiang"),
            vec!["zhang qiang", "zhangqiang"]
        );
        assert_eq!(query_forms("xi'an"), vec!["xi'an"]);
        assert_eq!(query_forms("zhangwei"), vec!["zhangwei"]);
        assert_eq!(
            query_forms("张 伟"),
            vec!["张 伟"],
            "Han characters are not pinyin"
        );
    }

    #[test]
    fn chinese_name_gets_pinyin_and_initials() {
        let n = CustomerName::parse(" 张三 ").unwrap();
        assert_eq!(n.as_str(), "张三");
        assert_eq!(n.pinyin(), "zhangsan");
        assert_eq!(n.initials(), "zs");
        let keys: Vec<String> = n.search_keys().into_iter().map(|k| k.key).collect();
        for k in ["张三", "三", "zhangsan", "zs", "san"] {
            assert!(keys.contains(&k.to_string()), "missing {k} in {keys:?}");
        }
    }

    #[test]
    fn latin_name_has_no_pinyin_but_word_keys() {
        let n = CustomerName::parse("John   Smith").unwrap();
        assert_eq!(n.as_str(), "John Smith");
        assert_eq!(n.pinyin(), "");
        let keys: Vec<String> = n.search_keys().into_iter().map(|k| k.key).collect();
        assert!(keys.contains(&"john smith".to_string()));
        assert!(keys.contains(&"smith".to_string()));
        assert!(keys.contains(&"js".to_string()));
    }

    #[test]
    fn empty_and_control_names_are_refused() {
        assert_eq!(CustomerName::parse("   "), Err("required"));
        assert_eq!(CustomerName::parse("a\u{0}b"), Err("invalid_characters"));
        assert_eq!(CustomerName::parse(&"x".repeat(201)), Err("too_long"));
    }
}
