//! The points ledger: 10,000 random postings (proptest's generator) against an in-memory model
//! — accruals with and without orders and expiry, redemptions, pro-rata refunds, adjustments,
//! expiry as days pass, repeated keys — after which, and every thousand steps, the balance is
//! the sum of the ledger, equals the model's, and lots and debts add up to it.

use super::*;
use chrono::Duration;
use guanxi_domain::loyalty::{allocate, reversal_points, Lot};
use guanxi_store::loyalty::Posted;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

on_both_backends!(the_ledger_balances_after_ten_thousand_random_postings);

const CUSTOMERS: usize = 3;
const ORDERS: usize = 300;
const STEPS: usize = 10_000;

#[derive(Debug, Clone)]
enum Op {
    Accrue {
        c: usize,
        points: i64,
        expires_days: Option<i64>,
        order: Option<usize>,
    },
    Redeem {
        c: usize,
        points: i64,
    },
    Refund {
        order: usize,
        percent: i64,
    },
    Adjust {
        c: usize,
        points: i64,
    },
    Pass {
        days: i64,
    },
    Again,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..CUSTOMERS, 1..500i64, proptest::option::of(1..60i64), proptest::option::weighted(0.4, 0..ORDERS))
            .prop_map(|(c, points, expires_days, order)| Op::Accrue { c, points, expires_days, order }),
        3 => (0..CUSTOMERS, 1..400i64).prop_map(|(c, points)| Op::Redeem { c, points }),
        2 => (0..ORDERS, 1..=100i64).prop_map(|(order, percent)| Op::Refund { order, percent }),
        1 => (0..CUSTOMERS, -300..300i64).prop_filter("non-zero", |(_, p)| *p != 0)
            .prop_map(|(c, points)| Op::Adjust { c, points }),
        1 => (0..4i64).prop_map(|days| Op::Pass { days }),
        1 => Just(Op::Again),
    ]
}

/// The model: each customer's lots and debts, kept by the same rules.
#[derive(Default, Clone)]
struct Member {
    lots: Vec<Lot>,
    debts: Vec<i64>,
    balance: i64,
}

impl Member {
    fn accrue(&mut self, id: i64, points: i64, expires_at: Option<chrono::DateTime<Utc>>) {
        self.balance += points;
        let mut left = points;
        for d in self.debts.iter_mut() {
            let take = (*d).min(left);
            *d -= take;
            left -= take;
        }
        self.debts.retain(|d| *d > 0);
        self.lots.push(Lot {
            id,
            remaining: left,
            expires_at,
        });
    }

    fn debit(&mut self, points: i64, allow_debt: bool) -> bool {
        let (taken, short) = allocate(&self.lots, points);
        if short > 0 && !allow_debt {
            return false;
        }
        for (id, p) in taken {
            if let Some(l) = self.lots.iter_mut().find(|l| l.id == id) {
                l.remaining -= p;
            }
        }
        if short > 0 {
            self.debts.push(short);
        }
        self.balance -= points;
        true
    }

    fn expire(&mut self, now: chrono::DateTime<Utc>) {
        for l in self.lots.iter_mut() {
            if l.expires_at.is_some_and(|e| e <= now) && l.remaining > 0 {
                self.balance -= l.remaining;
                l.remaining = 0;
            }
        }
    }
}

async fn the_ledger_balances_after_ten_thousand_random_postings(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let mut ids = Vec::new();
    for i in 0..CUSTOMERS {
        ids.push(person(s, &admin, &format!("会员{i}"), None).await.id);
    }
    let t0 = Utc::now();
    for k in 0..ORDERS {
        db.execute(&format!(
            "INSERT INTO orders (customer_id, ordered_at, total_minor, currency, channel, created_at) \
             VALUES ({}, {}, {}, 'CNY', 'store', 0)",
            ids[k % CUSTOMERS],
            t0.timestamp_millis(),
            1000 + (k as i64 * 737) % 90_000
        ))
        .await;
    }
    let orders: Vec<i64> = db
        .strings("SELECT CAST(id AS TEXT) FROM orders ORDER BY id")
        .await
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    let totals: Vec<i64> = (0..ORDERS)
        .map(|k| 1000 + (k as i64 * 737) % 90_000)
        .collect();
    let mut runner = TestRunner::deterministic();
    let ops = proptest::collection::vec(op(), STEPS)
        .new_tree(&mut runner)
        .unwrap()
        .current();

    let mut model: Vec<Member> = vec![Member::default(); CUSTOMERS];
    // Per order: (earned, refunded so far, reversed so far), once accrued.
    let mut earned: Vec<Option<(i64, i64, i64)>> = vec![None; ORDERS];
    let mut now = t0;
    let mut last_key: Option<(String, usize, i64, Option<i64>)> = None;
    let mut n = 0usize;
    for (step, op) in ops.into_iter().enumerate() {
        n += 1;
        match op {
            Op::Accrue {
                c,
                points,
                expires_days,
                order,
            } => {
                let c = order.map_or(c, |o| o % CUSTOMERS);
                if order.is_some_and(|o| earned[o].is_some()) {
                    continue;
                }
                let exp = expires_days.map(|d| now + Duration::days(d));
                let key = format!("accrue:{step}");
                let r = s
                    .loyalty_accrue(
                        ids[c],
                        points,
                        order.map(|o| (orders[o], totals[o])),
                        exp,
                        &key,
                        now,
                    )
                    .await
                    .unwrap();
                let Posted::New(id) = r else { panic!("{r:?}") };
                model[c].accrue(id, points, exp);
                if let Some(o) = order {
                    earned[o] = Some((points, 0, 0));
                }
                last_key = Some((key, c, points, exp.map(|e| e.timestamp_millis())));
            }
            Op::Redeem { c, points } => {
                let r = s
                    .loyalty_redeem(&admin, ids[c], points, &format!("redeem:{step}"), now)
                    .await;
                let ok = model[c].clone().debit(points, false);
                assert_eq!(r.is_ok(), ok, "step {step}: redeem {points} → {r:?}");
                if ok {
                    model[c].debit(points, false);
                } else {
                    assert!(
                        matches!(r, Err(StoreError::Invalid(_))),
                        "step {step}: {r:?}"
                    );
                }
            }
            Op::Refund { order, percent } => {
                let Some((points, refunded, reversed)) = earned[order] else {
                    continue;
                };
                let amount = totals[order] * percent / 100;
                let amount = amount.min(totals[order] - refunded);
                if amount <= 0 {
                    continue;
                }
                let want = reversal_points(points, totals[order], refunded, reversed, amount);
                let r = s
                    .loyalty_reverse_order(orders[order], amount, &format!("refund:{step}"), now)
                    .await
                    .unwrap();
                assert!(matches!(r, Posted::New(_)), "step {step}: {r:?}");
                model[order % CUSTOMERS].debit(want, true);
                earned[order] = Some((points, refunded + amount, reversed + want));
            }
            Op::Adjust { c, points } => {
                let r = s
                    .loyalty_adjust(
                        &admin,
                        ids[c],
                        points,
                        "盘点",
                        None,
                        &format!("adjust:{step}"),
                        now,
                    )
                    .await;
                if points > 0 {
                    let Ok(Posted::New(id)) = r else {
                        panic!("{r:?}")
                    };
                    model[c].accrue(id, points, None);
                } else {
                    let ok = model[c].clone().debit(-points, false);
                    assert_eq!(r.is_ok(), ok, "step {step}: adjust {points} → {r:?}");
                    if ok {
                        model[c].debit(-points, false);
                    }
                }
            }
            Op::Pass { days } => {
                now += Duration::days(days);
                s.loyalty_expire(now).await.unwrap();
                for m in model.iter_mut() {
                    m.expire(now);
                }
            }
            Op::Again => {
                // A repeated key posts nothing.
                if let Some((key, c, points, exp)) = &last_key {
                    let r = s
                        .loyalty_accrue(
                            ids[*c],
                            *points,
                            None,
                            exp.map(|e| chrono::DateTime::from_timestamp_millis(e).unwrap()),
                            key,
                            now,
                        )
                        .await
                        .unwrap();
                    assert!(matches!(r, Posted::Repeat(_)), "{r:?}");
                }
            }
        }
        if step % 1000 == 999 {
            check(db, &ids, &model).await;
        }
    }
    assert_eq!(n, STEPS);
    check(db, &ids, &model).await;
}

async fn check(db: &TestDb, ids: &[i64], model: &[Member]) {
    for (c, m) in model.iter().enumerate() {
        let b = db.store.loyalty_balance(ids[c]).await.unwrap();
        let ledger = db
            .scalar(&format!(
                "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM loyalty_entries WHERE customer_id = {}",
                ids[c]
            ))
            .await;
        assert_eq!(b.points, ledger, "balance is the sum of the ledger");
        assert_eq!(b.points, m.balance, "customer {c}: store and model agree");
        let lots: i64 = b.lots.iter().map(|l| l.1).sum();
        assert_eq!(lots - b.debt, b.points, "lots less debt make the balance");
        assert_eq!(b.debt, m.debts.iter().sum::<i64>());
        assert!(b.lots.iter().all(|l| l.1 > 0));
    }
    // No allocation takes more from a lot than it holds, or gives a debit more than it owes.
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM loyalty_entries e WHERE e.points > 0 AND e.points < \
             (SELECT CAST(COALESCE(SUM(a.points), 0) AS BIGINT) FROM loyalty_allocations a WHERE a.lot_id = e.id)"
        )
        .await,
        0
    );
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM loyalty_entries e WHERE e.points < 0 AND -e.points < \
             (SELECT CAST(COALESCE(SUM(a.points), 0) AS BIGINT) FROM loyalty_allocations a WHERE a.debit_id = e.id)"
        )
        .await,
        0
    );
}
