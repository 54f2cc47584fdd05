//! Search terms for text that mixes Chinese and Latin script, the same on both backends.
//!
//! Most Chinese words are two characters, which a trigram index misses, and dictionary
//! segmentation (jieba) loses substrings ("小化妆包" indexed as "化妆包" is not found by "化妆").
//! So a run of Han characters gives every character and every pair of neighbours
//! (overlapping bigrams, as Elasticsearch's `cjk` analyzer does); a run of letters and digits
//! gives the lower-cased word. A query is cut the same way, but a Han run of two or more
//! characters asks only for its bigrams: "退款" must appear as a word, not as 退 and 款
//! somewhere apart. Full-width Latin letters and digits (ｉＰｈｏｎｅ) are folded to ASCII first.

use std::collections::BTreeMap;

use crate::name::is_han;

/// Longest Latin word kept (longer runs are cut): keeps the index small for pasted hashes.
const MAX_WORD: usize = 40;

/// Full-width ASCII (U+FF01–FF5E) to ASCII, and the ideographic space to a space.
fn fold(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// A piece of text cut into runs: Han runs and Latin words, in order.
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars().map(fold) {
        let kind = if is_han(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (kind, out.last_mut()) {
            (Some(k), Some((last, run))) if *last == k && !run.is_empty() => {
                run.extend(c.to_lowercase())
            }
            (Some(k), _) => out.push((k, c.to_lowercase().collect())),
            (None, Some((_, run))) if !run.is_empty() => out.push((false, String::new())),
            (None, _) => {}
        }
    }
    out.retain(|(_, r)| !r.is_empty());
    out
}

fn word(run: &str) -> String {
    run.chars().take(MAX_WORD).collect()
}

/// Every term of a text with how often it occurs: for indexing.
pub fn index_terms(text: &str) -> BTreeMap<String, i64> {
    let mut terms = BTreeMap::new();
    for (han, run) in runs(text) {
        if han {
            let chars: Vec<char> = run.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                *terms.entry(c.to_string()).or_insert(0) += 1;
                if let Some(next) = chars.get(i + 1) {
                    *terms.entry(format!("{c}{next}")).or_insert(0) += 1;
                }
            }
        } else {
            *terms.entry(word(&run)).or_insert(0) += 1;
        }
    }
    terms
}

/// The terms a query asks for, each once, in order of appearance.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |t: String| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    for (han, run) in runs(query) {
        if han {
            let chars: Vec<char> = run.chars().collect();
            if chars.len() == 1 {
                add(chars[0].to_string());
            }
            for pair in chars.windows(2) {
                add(format!("{}{}", pair[0], pair[1]));
            }
        } else {
            add(word(&run));
        }
    }
    out
}

/// A short excerpt of `text` around the first place a query term occurs, cut into pieces that
/// are (true) or are not (false) a match, for a page to highlight. Matching is on the folded,
/// lower-cased text; the pieces are the original characters.
pub fn snippet(text: &str, terms: &[String], width: usize) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars
        .iter()
        .map(|c| fold(*c).to_lowercase().next().unwrap_or(*c))
        .collect();
    let term_chars: Vec<Vec<char>> = terms.iter().map(|t| t.chars().collect()).collect();
    let match_at = |i: usize| {
        term_chars
            .iter()
            .filter(|t| !t.is_empty() && folded.get(i..i + t.len()) == Some(t.as_slice()))
            .map(Vec::len)
            .max()
    };
    let first = (0..folded.len())
        .find(|i| match_at(*i).is_some())
        .unwrap_or(0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut pieces: Vec<(String, bool)> = Vec::new();
    if start > 0 {
        pieces.push(("…".into(), false));
    }
    let mut i = start;
    while i < end {
        match match_at(i) {
            Some(len) => {
                let stop = (i + len).min(end);
                pieces.push((chars[i..stop].iter().collect(), true));
                i = stop;
            }
            None => {
                match pieces.last_mut() {
                    Some((s, false)) => s.push(chars[i]),
                    _ => pieces.push((chars[i].to_string(), false)),
                }
                i += 1;
            }
        }
    }
    if end < chars.len() {
        pieces.push(("…".into(), false));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_runs_give_characters_and_pairs_latin_gives_words() {
        let t = index_terms("iPhone 屏幕碎了，申请退款。");
        for term in ["iphone", "屏", "幕", "屏幕", "幕碎", "退款", "款"] {
            assert!(t.contains_key(term), "{term} in {t:?}");
        }
        assert!(!t.contains_key("了申"), "punctuation breaks a run");
        assert_eq!(index_terms("发票发票")["发票"], 2);
    }

    #[test]
    fn queries_ask_for_words_not_scattered_characters() {
        assert_eq!(query_terms("退款"), ["退款"]);
        assert_eq!(query_terms("iPhone 屏幕"), ["iphone", "屏幕"]);
        assert_eq!(query_terms("开发票"), ["开发", "发票"]);
        assert_eq!(query_terms("票"), ["票"]);
        assert_eq!(
            query_terms("ＩＰＨＯＮＥ　屏幕"),
            ["iphone", "屏幕"],
            "full width folds"
        );
        assert!(query_terms(" ，。!").is_empty());
    }

    #[test]
    fn snippets_mark_the_matches_in_the_original_text() {
        let s = snippet(
            "如何申请退款：在订单页点“退款”。",
            &["退款".to_string()],
            40,
        );
        let marked: Vec<&str> = s.iter().filter(|p| p.1).map(|p| p.0.as_str()).collect();
        assert_eq!(marked, ["退款", "退款"]);
        let joined: String = s.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(joined, "如何申请退款：在订单页点“退款”。");
        let s = snippet("Your iPhone screen", &["iphone".to_string()], 40);
        assert!(s.contains(&("iPhone".to_string(), true)));
    }
}
