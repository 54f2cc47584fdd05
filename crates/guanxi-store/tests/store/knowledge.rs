//! Store tests: the knowledge base's search finds two-character Chinese words and mixed
//! queries on both backends, ranks titles first, hides drafts from readers, counts views and
//! one vote per user, and links articles to tickets.

use super::*;
use guanxi_domain::knowledge::{ArticleInput, ArticleStatus};

on_both_backends!(
    chinese_and_mixed_queries_find_the_article,
    votes_views_and_ticket_links
);

fn article(
    title_zh: &str,
    body_zh: &str,
    title_en: Option<&str>,
    body_en: Option<&str>,
) -> ArticleInput {
    ArticleInput {
        title_zh: Some(title_zh.into()),
        body_zh: Some(body_zh.into()),
        title_en: title_en.map(String::from),
        body_en: body_en.map(String::from),
        category_id: None,
        tags: Vec::new(),
        status: Some(ArticleStatus::Published),
        version: None,
    }
    .validate()
    .unwrap()
}

async fn chinese_and_mixed_queries_find_the_article(db: &TestDb) {
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let refund = s
        .create_article(
            &admin,
            &article(
                "如何申请退款",
                "在订单详情页点击“申请退款”，三个工作日内原路退回。",
                Some("How to get a refund"),
                Some("Open the order and choose Refund."),
            ),
        )
        .await
        .unwrap();
    let invoice = s
        .create_article(
            &admin,
            &article(
                "开具发票",
                "增值税专用发票请在下单后三十天内申请。",
                None,
                None,
            ),
        )
        .await
        .unwrap();
    let screen = s
        .create_article(
            &admin,
            &article(
                "手机屏幕碎了怎么办",
                "iPhone 屏幕维修：携带发票到门店，保修期内免费更换屏幕。",
                None,
                None,
            ),
        )
        .await
        .unwrap();
    let mut draft = article("退款草稿", "还没写完的退款说明。", None, None);
    draft.status = Some(ArticleStatus::Draft);
    let draft = s.create_article(&admin, &draft).await.unwrap();

    let ids = |hits: &[guanxi_domain::knowledge::ArticleHit]| {
        hits.iter().map(|h| h.id).collect::<Vec<_>>()
    };
    // Two-character words.
    assert_eq!(
        ids(&s.search_articles("退款", true, false, 10).await.unwrap()),
        [refund.id]
    );
    let fapiao = s.search_articles("发票", true, false, 10).await.unwrap();
    assert_eq!(
        ids(&fapiao),
        [invoice.id, screen.id],
        "the title match ranks first"
    );
    // Mixed script, in any case, full width too.
    assert_eq!(
        ids(&s
            .search_articles("iPhone 屏幕", true, false, 10)
            .await
            .unwrap()),
        [screen.id]
    );
    assert_eq!(
        ids(&s
            .search_articles("ＩＰＨＯＮＥ", true, false, 10)
            .await
            .unwrap()),
        [screen.id]
    );
    assert_eq!(
        ids(&s.search_articles("REFUND", false, false, 10).await.unwrap()),
        [refund.id]
    );
    // Characters apart are not the word: 退 and 款 both occur in no other article as 退款.
    assert!(s
        .search_articles("款退", true, false, 10)
        .await
        .unwrap()
        .is_empty());
    // Drafts only for editors.
    assert_eq!(
        ids(&s.search_articles("退款", true, true, 10).await.unwrap()).len(),
        2
    );
    assert!(!ids(&s.search_articles("退款", true, false, 10).await.unwrap()).contains(&draft.id));
    // The snippet marks the match in the original text.
    let hit = &s.search_articles("退款", true, false, 10).await.unwrap()[0];
    assert!(hit.snippet.iter().any(|p| p.hit && p.text == "退款"));
    assert_eq!(hit.title, "如何申请退款");
    // An update re-indexes: the old words are gone.
    let mut changed = article("如何申请退货", "在订单详情页点击“申请退货”。", None, None);
    changed.version = Some(refund.meta.version);
    s.update_article(&admin, refund.id, &changed).await.unwrap();
    assert!(s
        .search_articles("退款", true, false, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&s.search_articles("退货", true, false, 10).await.unwrap()),
        [refund.id]
    );
    // A stale version is a conflict.
    let e = s
        .update_article(&admin, refund.id, &changed)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }));
}

async fn votes_views_and_ticket_links(db: &TestDb) {
    use guanxi_domain::ticket::{NewTicket, TicketKind};
    use guanxi_domain::vocabulary::InteractionChannel;
    let s = &db.store;
    let admin = user(s, "admin", Role::Admin, None).await;
    let agent = user(s, "agent", Role::Service, None).await;
    let a = s
        .create_article(&admin, &article("发票遗失", "可补开发票。", None, None))
        .await
        .unwrap();
    s.article(a.id, true, false).await.unwrap();
    let seen = s.article(a.id, true, false).await.unwrap();
    assert_eq!(seen.views, 2);
    s.vote_article(&agent, a.id, false).await.unwrap();
    let v = s.vote_article(&agent, a.id, true).await.unwrap();
    assert_eq!(
        (v.helpful, v.not_helpful),
        (1, 0),
        "one vote per user, the last counts"
    );
    s.vote_article(&admin, a.id, true).await.unwrap();
    let c = person(s, &admin, "丢票人", None).await;
    let t = s
        .create_ticket(
            &admin,
            NewTicket {
                customer_id: Some(c.id),
                contact_name: None,
                contact_address: None,
                kind: TicketKind::Enquiry,
                category_id: None,
                priority: None,
                channel: InteractionChannel::Phone,
                subject: "发票丢了".into(),
                body: None,
                queue_id: None,
                order_id: None,
                product_sku: None,
                severe: false,
                custom: Default::default(),
            }
            .validate()
            .unwrap(),
        )
        .await
        .unwrap();
    s.link_article(&admin, t.id, a.id).await.unwrap();
    s.link_article(&admin, t.id, a.id).await.unwrap();
    assert_eq!(
        s.ticket_articles(t.id).await.unwrap(),
        [(a.id, "发票遗失".to_string())]
    );
    let a = s.article(a.id, false, false).await.unwrap();
    assert_eq!((a.helpful, a.linked_tickets, a.views), (2, 1, 2));
    let d = s.ticket_detail(&admin, t.id).await.unwrap();
    assert_eq!(d.events.iter().filter(|e| e.action == "article").count(), 1);
}
