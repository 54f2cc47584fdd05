-- Issue #17: leads (线索) before they are customers, and the public capture forms they come
-- through. A lead keeps its contact values normalised (the customer file's rule) so the same
-- person's second enquiry is found; converting it links the customer (new or existing) and
-- the deal it opened.
CREATE TABLE lead_forms (
    id INTEGER PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    source TEXT,
    campaign_id BIGINT REFERENCES campaigns(id),
    owner_id BIGINT REFERENCES users(id),
    active INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT
);
CREATE TABLE leads (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    origin TEXT NOT NULL,
    name TEXT,
    company TEXT,
    job_title TEXT,
    mobile TEXT,
    mobile_normalized TEXT,
    email TEXT,
    email_normalized TEXT,
    wechat TEXT,
    wechat_normalized TEXT,
    city TEXT,
    message TEXT,
    source TEXT,
    campaign_id BIGINT REFERENCES campaigns(id),
    form_id BIGINT REFERENCES lead_forms(id),
    owner_id BIGINT REFERENCES users(id),
    consent_marketing INTEGER NOT NULL,
    disqualify_reason TEXT,
    disqualify_note TEXT,
    customer_id BIGINT REFERENCES customers(id),
    opportunity_id BIGINT REFERENCES opportunities(id),
    converted_at BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
-- The list by status (newest first), a rep's own and the unassigned pool.
CREATE INDEX leads_status ON leads(status, created_at, id);
CREATE INDEX leads_owner ON leads(owner_id, status, created_at, id);
-- The same person's other enquiries.
CREATE INDEX leads_mobile ON leads(mobile_normalized);
CREATE INDEX leads_email ON leads(email_normalized);
CREATE INDEX leads_wechat ON leads(wechat_normalized);
CREATE INDEX leads_customer ON leads(customer_id);
