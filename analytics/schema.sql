-- BranchLens schema. Two parts, split by the marker lines below:
--   WAREHOUSE: one snapshot file per nightly export (or demo build); the app opens it read-only.
--   WORKSPACE: what users create; read-write, never touched by a warehouse re-import.
-- Money is in yuan (元) as DECIMAL(18,2). Dates are calendar dates. Ages are not stored: they are
-- derived from birth_date against the snapshot's as-of date (meta.as_of).
-- Risk levels: clients C1 (conservative 保守型) .. C5 (aggressive 激进型);
--              products R1 (lowest risk) .. R5 (highest). A client may hold products up to
--              their own level (C3 -> R1..R3).
-- Imports (analytics/importer): a column without NOT NULL is optional in a bank's files and is NULL
-- when the bank did not export it; every view copes with NULL there. What each file may carry, in
-- which units and under which headers, is in docs/data-dictionary.md (made from
-- analytics/importer/contract.py). meta.tables lists the tables a snapshot was given data for.

-- @@WAREHOUSE

-- One row per fact about the snapshot: as_of (YYYY-MM-DD; the demo's is a month-end, an import's
-- the date its files describe), source ('demo' or 'import'), tables (comma-separated tables given
-- data; absent on a demo snapshot, which has them all), seed and generator arguments or the import's
-- files, imported_by, created_at.
CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE branches (
    branch_id VARCHAR PRIMARY KEY,      -- e.g. 'B001'
    name_zh   VARCHAR NOT NULL,         -- 朝阳路支行
    name_en   VARCHAR NOT NULL,         -- Chaoyang Road Sub-branch
    city      VARCHAR
);

-- Relationship managers (客户经理/理财经理).
CREATE TABLE rms (
    rm_id     VARCHAR PRIMARY KEY,      -- e.g. 'R0001'
    branch_id VARCHAR NOT NULL,
    name_zh   VARCHAR NOT NULL,
    name_en   VARCHAR NOT NULL,         -- pinyin, e.g. 'Wang Fang'
    title     VARCHAR NOT NULL,         -- 'wealth' (理财经理) | 'client' (客户经理) | 'private' (私行)
    hire_date DATE
);

-- Retail clients. PII columns (name_zh, name_en, id_number, phone, address, card_number) are
-- masked on screen and in exports by analytics/privacy.py.
CREATE TABLE clients (
    client_id        VARCHAR PRIMARY KEY,  -- e.g. 'C00000001'
    branch_id        VARCHAR NOT NULL,
    rm_id            VARCHAR,              -- NULL: not (yet) adopted by an RM
    name_zh          VARCHAR,     -- PII
    name_en          VARCHAR,     -- PII, pinyin of name_zh
    gender           VARCHAR,     -- 'M' | 'F'
    birth_date       DATE,
    id_number        VARCHAR,     -- PII, 18-digit resident ID (last char may be 'X')
    phone            VARCHAR,     -- PII, 11-digit mobile
    address          VARCHAR,     -- PII
    card_number      VARCHAR,     -- PII, 19-digit debit card
    occupation       VARCHAR,     -- code, see ui strings 'occupation.*'
    marital_status   VARCHAR,     -- 'single' | 'married' | 'divorced' | 'widowed'
    monthly_income   DECIMAL(18, 2),  -- 元 per month, self-declared at KYC
    monthly_spending DECIMAL(18, 2),  -- 元 per month, estimated household spending
    risk_level       VARCHAR,     -- 'C1'..'C5', from the last risk assessment
    risk_assessed_on DATE,        -- date of that assessment (valid 1 year by regulation)
    payroll_flag     BOOLEAN,     -- salary paid through this bank (代发工资)
    pension_flag     BOOLEAN,     -- pension paid through this bank (代发养老金)
    pay_day          INTEGER,              -- day of month payroll/pension arrives, NULL if neither
    employer_corp_id VARCHAR,              -- corp_clients.corp_id when payroll comes from a corporate client
    mobile_banking   BOOLEAN,     -- has activated mobile banking
    open_date        DATE         -- relationship start (tenure)
);

-- Spouse and children, for family-based rules (children's education, affluent families).
CREATE TABLE family_members (
    client_id  VARCHAR NOT NULL,
    relation   VARCHAR NOT NULL,           -- 'spouse' | 'child'
    birth_date DATE NOT NULL
);

-- The bank's product shelf.
CREATE TABLE products (
    product_id      VARCHAR PRIMARY KEY,   -- e.g. 'P0001'
    name_zh         VARCHAR NOT NULL,
    name_en         VARCHAR NOT NULL,
    category        VARCHAR NOT NULL,      -- current_deposit | time_deposit | large_cd | savings_bond |
                                           -- wealth | money_fund | bond_fund | mixed_fund |
                                           -- equity_fund | protection_insurance |
                                           -- annuity_insurance | precious_metal | trust
    risk_level      VARCHAR,      -- 'R1'..'R5'
    liquidity       VARCHAR,      -- 'T+0' | 'T+1' | 'T+3' | 'term' (locked until maturity) | 'policy'
    expected_return DECIMAL(8, 4),         -- annual rate as a fraction (0.0215 = 2.15%), NULL for equity-like
    term_days       INTEGER,               -- NULL for open-ended products
    on_shelf        BOOLEAN NOT NULL       -- currently sold (FALSE: legacy product still held)
);

-- Client x product x month-end. One row per position held at that month-end.
CREATE TABLE holdings_monthly (
    month_end     DATE NOT NULL,           -- last calendar day of the month
    client_id     VARCHAR NOT NULL,
    product_id    VARCHAR NOT NULL,
    balance       DECIMAL(18, 2) NOT NULL, -- month-end balance / market value (元)
    avg_balance   DECIMAL(18, 2),          -- month's average daily balance 月日均 (元); NULL if not measured
    cost          DECIMAL(18, 2), -- amount invested (元); P&L = balance - cost
    maturity_date DATE                     -- this position's maturity (deposits, CDs, bonds, closed wealth, trusts)
);

-- Derived at snapshot build from holdings_monthly: one row per client x month-end with AUM, so that
-- every view reads AUM the same way. aum = SUM(COALESCE(avg_balance, balance)).
CREATE TABLE client_aum_monthly (
    month_end DATE NOT NULL,
    client_id VARCHAR NOT NULL,
    branch_id VARCHAR NOT NULL,
    rm_id     VARCHAR,
    aum       DECIMAL(18, 2) NOT NULL,     -- 月日均 AUM where measured, else month-end (元)
    aum_month_end DECIMAL(18, 2) NOT NULL  -- month-end balance sum (元)
);

-- Account movements over the last 12 months.
CREATE TABLE transactions (
    txn_id           BIGINT PRIMARY KEY,
    client_id        VARCHAR NOT NULL,
    txn_date         DATE NOT NULL,
    txn_type         VARCHAR NOT NULL,     -- deposit | withdrawal | transfer_in | transfer_out |
                                           -- purchase | redemption | payroll | pension | card_spend
    amount           DECIMAL(18, 2) NOT NULL, -- always positive; direction follows txn_type
    channel          VARCHAR,     -- counter | mobile | atm | online | pos | system
    product_id       VARCHAR,              -- for purchase/redemption
    counterparty_bank VARCHAR,             -- other bank for transfer_in/out (an inflow seen from another bank)
    client_initiated BOOLEAN NOT NULL      -- FALSE for payroll, pension and system postings (RFM uses TRUE only)
);

-- Bank-insurance policies (银保).
CREATE TABLE insurance_policies (
    policy_id         VARCHAR PRIMARY KEY,
    client_id         VARCHAR NOT NULL,
    product_id        VARCHAR NOT NULL,
    start_date        DATE NOT NULL,
    annual_premium    DECIMAL(18, 2) NOT NULL, -- 元 per year
    premium_years     INTEGER,        -- payment term in years
    illustrated_yield DECIMAL(8, 4),           -- yield shown at sale (fraction), NULL for protection
    actual_yield      DECIMAL(8, 4),           -- realised yield so far (fraction), NULL for protection
    cooling_off_end   DATE NOT NULL            -- end of the 15-day cooling-off period (犹豫期)
);

-- Monthly mobile-banking logins.
CREATE TABLE digital_activity (
    month_end     DATE NOT NULL,
    client_id     VARCHAR NOT NULL,
    mobile_logins INTEGER NOT NULL
);

-- RM contact history exported from the bank's CRM over the last 12 months (read-only). Contacts
-- recorded in BranchLens live in the workspace table contact_logs.
CREATE TABLE contact_history (
    client_id    VARCHAR NOT NULL,
    rm_id        VARCHAR NOT NULL,
    contact_date DATE NOT NULL,
    channel      VARCHAR NOT NULL,         -- visit | call | wechat | sms | event
    topic        VARCHAR NOT NULL,         -- code: maturity | review | birthday | product | service | event
    outcome      VARCHAR NOT NULL          -- reached | no_answer | visit_booked | product_discussed | declined
);

-- Corporate clients (对公客户).
CREATE TABLE corp_clients (
    corp_id            VARCHAR PRIMARY KEY,  -- e.g. 'E000001'
    branch_id          VARCHAR NOT NULL,
    rm_id              VARCHAR,
    name_zh            VARCHAR NOT NULL,
    name_en            VARCHAR NOT NULL,
    industry           VARCHAR,     -- code: manufacturing | wholesale | retail | construction |
                                             -- logistics | it | catering | real_estate | agriculture | services
    size               VARCHAR,     -- micro | small | medium | large (by headcount and revenue)
    founded_on         DATE,
    registered_capital DECIMAL(18, 2),  -- 元
    employees          INTEGER,
    payroll_headcount  INTEGER,     -- employees paid through this bank (代发工资人数)
    annual_revenue     DECIMAL(18, 2),  -- 元, last fiscal year
    debt_ratio         DOUBLE,      -- total liabilities / total assets (0..1.5)
    overdue_tax        BOOLEAN,     -- tax arrears on record (a rule override caps the grade)
    has_guarantor      BOOLEAN,     -- loans guaranteed by a third party
    open_date          DATE
);

-- Settlement payments between corporate clients over the last 12 months (the payment network).
CREATE TABLE corp_transactions (
    txn_id      BIGINT PRIMARY KEY,
    payer_id    VARCHAR NOT NULL,            -- corp_clients.corp_id
    payee_id    VARCHAR NOT NULL,            -- corp_clients.corp_id
    txn_date    DATE NOT NULL,
    amount      DECIMAL(18, 2) NOT NULL      -- 元
);

-- One row per corporate client: the last 12 months of its accounts with the bank.
CREATE TABLE corp_accounts (
    corp_id            VARCHAR PRIMARY KEY,
    avg_daily_deposit  DECIMAL(18, 2) NOT NULL, -- 元, 12-month average daily deposit balance
    loan_balance       DECIMAL(18, 2), -- 元, at the as-of date
    loan_interest_12m  DECIMAL(18, 2), -- 元, interest income over 12 months
    fee_income_12m     DECIMAL(18, 2), -- 元, fees over 12 months
    max_overdue_days   INTEGER,        -- longest overdue on any loan in the last 12 months
    default_flag       BOOLEAN         -- 90+ days overdue or written off in the next 12 months (the target)
);

-- @@WORKSPACE

-- People who may log in are in the accounts file <data>/users.sqlite3 (analytics/users.py), not
-- here: DuckDB allows one writer process, and the users CLI must work while the app runs.

-- Contacts recorded by RMs in BranchLens. Survives warehouse re-imports.
CREATE SEQUENCE IF NOT EXISTS contact_log_seq;
CREATE TABLE IF NOT EXISTS contact_logs (
    log_id       BIGINT PRIMARY KEY DEFAULT nextval('contact_log_seq'),
    client_id    VARCHAR NOT NULL,
    rm_id        VARCHAR NOT NULL,
    contact_date DATE NOT NULL,
    channel      VARCHAR NOT NULL,          -- visit | call | wechat | sms | event
    reason       VARCHAR,                   -- the planner's trigger code, if planned
    outcome      VARCHAR NOT NULL,          -- reached | no_answer | visit_booked | product_discussed | declined
    note         VARCHAR,
    logged_by    VARCHAR NOT NULL,          -- viewer id who recorded it
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    plan_id      BIGINT                     -- planned_contacts.plan_id when done from the plan
);
-- Workspaces created before plan_id existed get the column here (idempotent).
ALTER TABLE contact_logs ADD COLUMN IF NOT EXISTS plan_id BIGINT;

-- The 5-20-30 plan an RM accepted (analytics/contact_plan.py): one row per planned contact.
-- Re-accepting a day replaces that day's open (not yet logged) rows; done rows stay.
CREATE SEQUENCE IF NOT EXISTS planned_contact_seq;
CREATE TABLE IF NOT EXISTS planned_contacts (
    plan_id      BIGINT PRIMARY KEY DEFAULT nextval('planned_contact_seq'),
    plan_day     DATE NOT NULL,
    rm_id        VARCHAR NOT NULL,
    client_id    VARCHAR NOT NULL,
    slot         VARCHAR NOT NULL,          -- deep | call | light (the 5 / 20 / 30)
    channel      VARCHAR NOT NULL,          -- visit | call | wechat | sms
    reason       VARCHAR NOT NULL,          -- trigger code, e.g. maturity_t7
    priority     DOUBLE NOT NULL,
    detail       VARCHAR,                   -- JSON: the trigger's facts (product, date, amount...)
    accepted_by  VARCHAR NOT NULL,
    accepted_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Monthly targets a branch manager sets (per branch or per RM).
CREATE TABLE IF NOT EXISTS targets (
    month_end  DATE NOT NULL,
    branch_id  VARCHAR NOT NULL,
    rm_id      VARCHAR,                     -- NULL: branch-level target
    metric     VARCHAR NOT NULL,            -- e.g. aum | high_end_clients | contacts
    value      DOUBLE NOT NULL,
    set_by     VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Free-text notes on a client.
CREATE TABLE IF NOT EXISTS client_notes (
    client_id  VARCHAR NOT NULL,
    author     VARCHAR NOT NULL,
    note       VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- RM adoption of high-end clients (认养/领养分配, analytics/adoption.py): one row per accepted
-- assignment, append-only. A client's effective RM is the rm_id of their latest row (accepted_at,
-- then insertion order) for the client's current branch, else the warehouse clients.rm_id.
CREATE TABLE IF NOT EXISTS rm_assignments (
    client_id      VARCHAR NOT NULL,
    rm_id          VARCHAR NOT NULL,        -- the RM the client is assigned to
    previous_rm_id VARCHAR,                 -- the effective RM before (NULL: was unassigned)
    branch_id      VARCHAR NOT NULL,
    accepted_by    VARCHAR NOT NULL,        -- viewer id of the branch manager / head office
    accepted_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Credit grades adjusted by rule or by hand after the scorecard (analytics/scorecard.py), with who
-- and why; append-only. A client's grade in force is its latest row.
CREATE TABLE IF NOT EXISTS grade_overrides (
    corp_id      VARCHAR NOT NULL,
    model_grade  VARCHAR NOT NULL,          -- the scorecard's grade
    final_grade  VARCHAR NOT NULL,          -- after the adjustment
    rule         VARCHAR NOT NULL,          -- [scorecard.overrides] rule code, or 'manual'
    reason       VARCHAR NOT NULL,          -- the rule's reason code, or the person's own words
    score        DOUBLE,                    -- the model score behind model_grade
    snapshot     VARCHAR,                   -- snapshot file the grade was computed on
    decided_by   VARCHAR NOT NULL,          -- viewer id
    decided_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Header mappings a user corrected in the data view (analytics/importer/mappings.py): a header as
-- it stands in the bank's files (normalised: analytics.importer.normalize.header_key) -> the
-- canonical column of a warehouse table ('' = leave the column out), and a money column's unit.
CREATE TABLE IF NOT EXISTS import_mappings (
    table_name  VARCHAR NOT NULL,
    header      VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    unit        VARCHAR,
    saved_by    VARCHAR NOT NULL,
    saved_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (table_name, header)
);
