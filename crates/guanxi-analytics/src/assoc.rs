//! Association rules: FP-growth frequent itemsets (Han, Pei & Yin, "Mining Frequent Patterns
//! without Candidate Generation", SIGMOD 2000) and rules with support, confidence and lift
//! (Agrawal, Imieliński & Swami 1993) — "customers who bought X also bought Y".
//!
//! Support is `count / baskets` and an itemset is frequent when its support is at least
//! `min_support`, the definition mlxtend uses (checked against it in the tests).
//!
//! Thresholds are compared on counts: confidence is `count(A∪C) / count(A)` and lift
//! `count(A∪C) · baskets / (count(A) · count(C))`, each one division of exact integers, so a
//! rule at 16 of 20 baskets passes `min_confidence 0.8` (a ratio of two rounded supports can
//! fall a hair short). Itemsets are at most [`DEFAULT_MAX_LEN`] items unless asked otherwise,
//! and mining stops with what to change once the result passes [`ITEMSET_BUDGET`] — one
//! 22-item basket has four million subsets — so memory stays bounded whatever the input.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::AnalyticsError;

struct Node {
    item: u32,
    count: u64,
    parent: usize,
    children: Vec<usize>,
}

struct Tree {
    nodes: Vec<Node>,
    /// Per item (in mining order): the nodes holding it.
    header: Vec<(u32, Vec<usize>)>,
}

/// Builds an FP-tree from weighted transactions, keeping items whose count reaches `min_count`.
/// Item ids are dense (0..n_items), so counts and ranks are flat vectors, not hash maps: the
/// recursion builds thousands of small conditional trees.
fn build(transactions: &[(Vec<u32>, u64)], min_count: u64, n_items: usize) -> Tree {
    let mut counts = vec![0u64; n_items];
    for (t, w) in transactions {
        for &i in t {
            counts[i as usize] += w;
        }
    }
    let mut frequent: Vec<(u32, u64)> = counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c >= min_count)
        .map(|(i, &c)| (i as u32, c))
        .collect();
    // Most frequent first (ties by id) gives the most compact tree.
    frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rank = vec![usize::MAX; n_items];
    for (r, (i, _)) in frequent.iter().enumerate() {
        rank[*i as usize] = r;
    }
    let mut nodes = vec![Node {
        item: u32::MAX,
        count: 0,
        parent: usize::MAX,
        children: Vec::new(),
    }];
    let mut header: Vec<(u32, Vec<usize>)> =
        frequent.iter().map(|(i, _)| (*i, Vec::new())).collect();
    let mut path: Vec<u32> = Vec::new();
    for (t, w) in transactions {
        path.clear();
        path.extend(
            t.iter()
                .copied()
                .filter(|&i| rank[i as usize] != usize::MAX),
        );
        path.sort_unstable_by_key(|&i| rank[i as usize]);
        let mut cur = 0;
        for &item in &path {
            let found = nodes[cur]
                .children
                .iter()
                .copied()
                .find(|&c| nodes[c].item == item);
            cur = match found {
                Some(c) => c,
                None => {
                    let id = nodes.len();
                    nodes.push(Node {
                        item,
                        count: 0,
                        parent: cur,
                        children: Vec::new(),
                    });
                    nodes[cur].children.push(id);
                    header[rank[item as usize]].1.push(id);
                    id
                }
            };
            nodes[cur].count += w;
        }
    }
    Tree { nodes, header }
}

/// Longest itemset mined by default: rules of up to three items imply one.
pub const DEFAULT_MAX_LEN: usize = 4;

/// Most itemsets a mining run may produce (each costs ~100 bytes with its names: ~200 MB).
pub const ITEMSET_BUDGET: u64 = 2_000_000;

/// Mining stopped: the result would pass [`ITEMSET_BUDGET`].
struct Overflow;

fn mine(
    tree: &Tree,
    suffix: &[u32],
    min_count: u64,
    n_items: usize,
    max_len: usize,
    out: &mut Vec<(Vec<u32>, u64)>,
) -> Result<(), Overflow> {
    // Least frequent first, so conditional bases are small.
    for (item, holders) in tree.header.iter().rev() {
        let support: u64 = holders.iter().map(|&n| tree.nodes[n].count).sum();
        if support < min_count {
            continue;
        }
        let mut set = suffix.to_vec();
        set.push(*item);
        let base: Vec<(Vec<u32>, u64)> = holders
            .iter()
            .filter_map(|&n| {
                let mut prefix = Vec::new();
                let mut p = tree.nodes[n].parent;
                while p != 0 && p != usize::MAX {
                    prefix.push(tree.nodes[p].item);
                    p = tree.nodes[p].parent;
                }
                (!prefix.is_empty()).then_some((prefix, tree.nodes[n].count))
            })
            .collect();
        out.push((set.clone(), support));
        if out.len() as u64 > ITEMSET_BUDGET {
            return Err(Overflow);
        }
        if !base.is_empty() && set.len() < max_len {
            let sub = build(&base, min_count, n_items);
            if !sub.header.is_empty() {
                mine(&sub, &set, min_count, n_items, max_len, out)?;
            }
        }
    }
    Ok(())
}

/// A frequent itemset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Itemset {
    /// Items, sorted.
    pub items: Vec<String>,
    /// Baskets containing all of them.
    pub count: u64,
    /// `count / baskets`.
    pub support: f64,
    /// Baskets in all (the support's denominator), for exact rule thresholds.
    #[serde(skip)]
    pub baskets: u64,
}

/// Frequent itemsets of `baskets` (duplicates within a basket count once) of at most
/// `max_len` items (`None`: [`DEFAULT_MAX_LEN`]; `Some(0)`: no limit), sorted by descending
/// support, then by items. Fails with [`AnalyticsError::TooMuchWork`] when the result
/// would pass [`ITEMSET_BUDGET`].
pub fn frequent_itemsets(
    baskets: &[Vec<String>],
    min_support: f64,
    max_len: Option<usize>,
) -> Result<Vec<Itemset>, AnalyticsError> {
    if baskets.is_empty() {
        return Err(AnalyticsError::Empty);
    }
    if !(min_support > 0.0 && min_support <= 1.0) {
        return Err(AnalyticsError::Parameter("0 < min_support <= 1"));
    }
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let tx: Vec<(Vec<u32>, u64)> = baskets
        .iter()
        .map(|b| {
            let mut t: Vec<u32> = b
                .iter()
                .map(|s| {
                    *ids.entry(s.as_str()).or_insert_with(|| {
                        names.push(s.as_str());
                        (names.len() - 1) as u32
                    })
                })
                .collect();
            t.sort_unstable();
            t.dedup();
            (t, 1)
        })
        .collect();
    let n = baskets.len() as f64;
    let min_count = min_count(min_support, n);
    let max_len = match max_len {
        None => DEFAULT_MAX_LEN,
        Some(0) => usize::MAX,
        Some(m) => m,
    };
    let tree = build(&tx, min_count, names.len());
    let mut raw = Vec::new();
    mine(&tree, &[], min_count, names.len(), max_len, &mut raw).map_err(|Overflow| {
        AnalyticsError::TooMuchWork {
            budget: ITEMSET_BUDGET,
            advice: "raise the minimum support or lower the maximum itemset length",
        }
    })?;
    Ok(itemsets(raw, &names, n))
}

/// The smallest count whose support (as a float division, like mlxtend) reaches the minimum.
fn min_count(min_support: f64, baskets: f64) -> u64 {
    let mut min_count = ((min_support * baskets).floor() as u64)
        .saturating_sub(1)
        .max(1);
    while (min_count as f64) / baskets < min_support {
        min_count += 1;
    }
    min_count
}

/// Named, sorted itemsets from item-id sets with counts: by descending count, then items.
fn itemsets<S: AsRef<str>>(raw: Vec<(Vec<u32>, u64)>, names: &[S], baskets: f64) -> Vec<Itemset> {
    let mut out: Vec<Itemset> = raw
        .into_iter()
        .map(|(s, c)| {
            let mut items: Vec<String> = s
                .iter()
                .map(|&i| names[i as usize].as_ref().to_string())
                .collect();
            items.sort();
            Itemset {
                items,
                count: c,
                support: c as f64 / baskets,
                baskets: baskets as u64,
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.items.cmp(&b.items)));
    out
}

/// Frequent single items and pairs: what [`frequent_itemsets`] returns with `max_len` 2, by
/// direct counting — one pass over the baskets and a flat table of pair counts, no tree — for
/// books of millions of orders, where "also bought" needs pairs only. `baskets` yields each
/// basket's item ids (indices into `names`; duplicates within a basket count once).
pub fn frequent_pairs<'a>(
    baskets: impl Iterator<Item = &'a [u32]>,
    names: &[String],
    min_support: f64,
) -> Result<Vec<Itemset>, AnalyticsError> {
    if !(min_support > 0.0 && min_support <= 1.0) {
        return Err(AnalyticsError::Parameter("0 < min_support <= 1"));
    }
    let k = names.len();
    // Pair (i < j) counts: a dense triangle-free square for catalogues up to 4,096 items
    // (64 MiB at most), a hash map beyond.
    let dense = k <= 4_096;
    let mut square = if dense { vec![0u64; k * k] } else { Vec::new() };
    let mut sparse: HashMap<(u32, u32), u64> = HashMap::new();
    let mut single = vec![0u64; k];
    let mut basket: Vec<u32> = Vec::new();
    let mut n = 0u64;
    for b in baskets {
        n += 1;
        basket.clear();
        basket.extend_from_slice(b);
        basket.sort_unstable();
        basket.dedup();
        if basket.last().is_some_and(|&i| i as usize >= k) {
            return Err(AnalyticsError::Parameter("an item id has no name"));
        }
        for (x, &i) in basket.iter().enumerate() {
            single[i as usize] += 1;
            for &j in &basket[x + 1..] {
                if dense {
                    square[i as usize * k + j as usize] += 1;
                } else {
                    *sparse.entry((i, j)).or_default() += 1;
                }
            }
        }
    }
    if n == 0 {
        return Err(AnalyticsError::Empty);
    }
    let min = min_count(min_support, n as f64);
    let mut raw: Vec<(Vec<u32>, u64)> = (0..k as u32)
        .filter(|&i| single[i as usize] >= min)
        .map(|i| (vec![i], single[i as usize]))
        .collect();
    if dense {
        for i in 0..k {
            for j in i + 1..k {
                if square[i * k + j] >= min {
                    raw.push((vec![i as u32, j as u32], square[i * k + j]));
                }
            }
        }
    } else {
        raw.extend(
            sparse
                .into_iter()
                .filter(|(_, c)| *c >= min)
                .map(|((i, j), c)| (vec![i, j], c)),
        );
    }
    Ok(itemsets(raw, names, n as f64))
}

/// An association rule `antecedent → consequent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// If a basket has these …
    pub antecedent: Vec<String>,
    /// … it tends to have these.
    pub consequent: Vec<String>,
    /// Support of the whole itemset.
    pub support: f64,
    /// Baskets holding the whole itemset.
    pub count: u64,
    /// P(consequent | antecedent).
    pub confidence: f64,
    /// Confidence over the consequent's own support (> 1: bought together more than by chance).
    pub lift: f64,
}

/// All rules from the itemsets with confidence ≥ `min_confidence`, strongest lift first.
/// Confidence and lift come from the counts, each one division, so a threshold is met
/// exactly when the true ratio meets it (rounding to the nearest double keeps order).
pub fn rules(itemsets: &[Itemset], min_confidence: f64) -> Vec<Rule> {
    let count: HashMap<&[String], u64> = itemsets
        .iter()
        .map(|s| (s.items.as_slice(), s.count))
        .collect();
    let mut out = Vec::new();
    for s in itemsets.iter().filter(|s| s.items.len() >= 2) {
        let k = s.items.len();
        for mask in 1..(1u32 << k) - 1 {
            let (a, c): (Vec<String>, Vec<String>) = {
                let mut a = Vec::new();
                let mut c = Vec::new();
                for (i, it) in s.items.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        a.push(it.clone());
                    } else {
                        c.push(it.clone());
                    }
                }
                (a, c)
            };
            let (Some(&ca), Some(&cc)) = (count.get(a.as_slice()), count.get(c.as_slice())) else {
                continue;
            };
            let confidence = s.count as f64 / ca as f64;
            if confidence >= min_confidence {
                // Products in u128 are exact; their quotient is rounded once.
                let lift =
                    (s.count as u128 * s.baskets as u128) as f64 / (ca as u128 * cc as u128) as f64;
                out.push(Rule {
                    antecedent: a,
                    consequent: c,
                    support: s.support,
                    count: s.count,
                    confidence,
                    lift,
                });
            }
        }
    }
    out.sort_by(|x, y| {
        y.lift
            .total_cmp(&x.lift)
            .then(y.confidence.total_cmp(&x.confidence))
            .then_with(|| x.antecedent.cmp(&y.antecedent))
            .then_with(|| x.consequent.cmp(&y.consequent))
    });
    out
}

/// "Customers who bought `product` also bought": single-item rules from it, best lift first.
pub fn also_bought<'a>(rules: &'a [Rule], product: &str, limit: usize) -> Vec<&'a Rule> {
    rules
        .iter()
        .filter(|r| {
            r.antecedent.len() == 1 && r.antecedent[0] == product && r.consequent.len() == 1
        })
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn textbook_example() {
        // Han et al.'s style example: 5 baskets.
        let baskets = vec![
            b(&["bread", "milk"]),
            b(&["bread", "diapers", "beer", "eggs"]),
            b(&["milk", "diapers", "beer", "cola"]),
            b(&["bread", "milk", "diapers", "beer"]),
            b(&["bread", "milk", "diapers", "cola"]),
        ];
        let sets = frequent_itemsets(&baskets, 0.6, None).unwrap();
        let find = |items: &[&str]| sets.iter().find(|s| s.items == b(items)).map(|s| s.count);
        assert_eq!(find(&["bread"]), Some(4));
        assert_eq!(find(&["beer", "diapers"]), Some(3));
        assert_eq!(find(&["bread", "milk"]), Some(3));
        assert_eq!(find(&["beer", "bread"]), None);
        let r = rules(&sets, 0.7);
        let beer = r.iter().find(|r| r.antecedent == b(&["beer"])).unwrap();
        assert_eq!(beer.consequent, b(&["diapers"]));
        assert!((beer.confidence - 1.0).abs() < 1e-12 && (beer.lift - 1.25).abs() < 1e-12);
    }

    #[test]
    fn thresholds_are_met_on_exact_counts() {
        // 24 baskets, A in 20, A and B in 16: confidence exactly 0.8, though
        // (16/24) / (20/24) is 0.7999… in floating point.
        let mut baskets = vec![b(&["a", "b"]); 16];
        baskets.extend(vec![b(&["a"]); 4]);
        baskets.extend(vec![b(&["b"]); 4]);
        let sets = frequent_itemsets(&baskets, 0.1, None).unwrap();
        let r = rules(&sets, 0.8);
        let ab = r
            .iter()
            .find(|r| r.antecedent == b(&["a"]) && r.consequent == b(&["b"]))
            .expect("a → b at exactly 0.8 passes");
        assert_eq!(ab.confidence, 0.8);
        // lift = 16 · 24 / (20 · 20) = 0.96 exactly.
        assert_eq!(ab.lift, 0.96);
    }

    #[test]
    fn itemsets_stop_at_the_maximum_length() {
        let basket = b(&["a", "b", "c", "d", "e", "f"]);
        let sets = frequent_itemsets(&[basket.clone(), basket.clone()], 0.5, None).unwrap();
        assert_eq!(
            sets.iter().map(|s| s.items.len()).max(),
            Some(DEFAULT_MAX_LEN)
        );
        // C(6,1) + … + C(6,4) = 6 + 15 + 20 + 15.
        assert_eq!(sets.len(), 56);
        let all = frequent_itemsets(&[basket.clone(), basket], 0.5, Some(0)).unwrap();
        assert_eq!(all.len(), 63);
    }

    #[test]
    fn a_huge_basket_is_refused_not_mined() {
        let names: Vec<String> = (0..22).map(|i| format!("item{i}")).collect();
        // Unlimited length: 2^22 - 1 subsets, over the budget.
        match frequent_itemsets(std::slice::from_ref(&names), 1.0, Some(0)) {
            Err(AnalyticsError::TooMuchWork { budget, .. }) => assert_eq!(budget, ITEMSET_BUDGET),
            other => panic!("{other:?}"),
        }
        // At the default length it is a few thousand itemsets.
        let sets = frequent_itemsets(&[names], 1.0, None).unwrap();
        assert_eq!(sets.len(), 22 + 231 + 1540 + 7315);
    }
}
