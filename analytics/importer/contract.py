"""The import contract: what each warehouse table accepts from a bank's export files.

For every importable table: its columns with a kind (how a cell is read and checked), whether it is
required, its Chinese and English names (the template headers) and the header spellings that map
to it by default (BANK-EXPORTS.md lists where they come from). ``docs/data-dictionary.md`` is
generated from this module (``python -m analytics.importer dictionary``), so the two never differ.

Kinds:
- ``key``      an identifier (客户号, 产品代码): text, never a number that Excel may have rounded
- ``text``     free text; ``pii`` marks personal data (masked in reports)
- ``id_number`` an 18-character resident ID (check digit verified); PII
- ``phone``    an 11-digit mainland mobile; PII
- ``card``     a bank card or account number, 12-19 digits; PII
- ``money``    yuan; 万元 when the header or the title says so, separators and (negative) allowed
- ``rate``     a fraction; "3.25%" is 0.0325
- ``int``      a whole number
- ``date``     2024-01-05, 2024/1/5, 20240105, 2024年1月5日, an Excel serial number, a timestamp
- ``bool``     是/否, Y/N, 1/0, true/false, 有/无
- ``code``     a value from a code list (``codes``); the bank's own words map through
               ``[importer.codes.<list>]`` in settings.toml
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str  # canonical column (warehouse column, or an import-only one such as clients.aum)
    kind: str
    zh: str  # template header (Chinese)
    en: str  # template header (English)
    required: bool = False
    aliases: tuple[str, ...] = ()  # other header spellings seen in bank exports
    codes: str | None = None  # code list for kind 'code'
    pii: bool = False
    note_zh: str = ""
    note_en: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header that maps to this column by default (template names first)."""
        return (self.zh, self.en, self.name, *self.aliases)


@dataclass(frozen=True)
class Table:
    name: str  # warehouse table
    zh: str  # what branches call the file
    en: str
    grain_zh: str
    grain_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that identify a row (duplicates are errors)
    cli: str = ""  # the load command's option, e.g. --clients
    needs: tuple[str, ...] = field(default=())  # tables whose keys this one references

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def C(name, kind, zh, en, *aliases, **kw) -> Column:  # noqa: N802 (a table of columns reads better)
    return Column(name, kind, zh, en, aliases=aliases, **kw)


_CLIENT_ID = (
    "客户号",
    "客户编号",
    "客户代码",
    "核心客户号",
    "客户ID",
    "客户id",
    "cust_id",
    "customer_id",
)
_PRODUCT_ID = ("产品代码", "产品编号", "产品号", "product_code")
_BRANCH_ID = (
    "所属机构",
    "网点",
    "机构号",
    "网点号",
    "所属网点",
    "机构代码",
    "网点代码",
    "机构编号",
)
_RM_ID = ("所属客户经理", "管户经理", "管户客户经理", "客户经理工号", "管户人工号", "客户经理编号")
_DATE = ("数据日期", "统计日期", "日期", "月份", "数据月份", "报表日期")

TABLES: dict[str, Table] = {}


def _table(t: Table) -> None:
    TABLES[t.name] = t


# fmt: off
_table(Table("branches", "机构清单", "Branch list", "每个网点一行", "one row per branch", (
    C("branch_id", "key", "机构号", "Branch ID", *_BRANCH_ID, "branch", required=True),
    C("name_zh", "text", "机构名称", "Branch name", "网点名称", "支行名称", "机构", required=True),
    C("name_en", "text", "英文名称", "Branch name (English)"),
    C("city", "text", "城市", "City", "所在城市", "地区"),
), key=("branch_id",), cli="--branches"))

_table(Table("rms", "客户经理名单", "RM list", "每位客户经理一行", "one row per RM", (
    C("rm_id", "key", "工号", "RM ID", "员工号", "客户经理工号", "员工编号", "柜员号", required=True),
    C("branch_id", "key", "所属网点", "Branch ID", *_BRANCH_ID, required=True,
      note_zh="缺少此列时取界面所选或 --branch 指定的网点",
      note_en="when missing: the branch chosen in the view or given by --branch"),
    C("name_zh", "text", "姓名", "Name", "客户经理姓名", "员工姓名"),
    C("name_en", "text", "英文名", "Name (English)", "拼音"),
    C("title", "code", "岗位", "Title", "职位", "岗位名称", codes="title"),
    C("hire_date", "date", "入职日期", "Hire date", "入行日期"),
), key=("rm_id",), cli="--rms", needs=("branches",)))

_table(Table("clients", "客户清单", "Client roster", "每位客户一行", "one row per client", (
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("branch_id", "key", "所属机构", "Branch ID", *_BRANCH_ID[1:], required=True,
      note_zh="缺少此列时取界面所选或 --branch 指定的网点",
      note_en="when missing: the branch chosen in the view or given by --branch"),
    C("rm_id", "key", "所属客户经理", "RM ID", *_RM_ID[1:],
      note_zh="空：未分配客户经理", note_en="empty: no RM (the branch's pool)"),
    C("name_zh", "text", "客户姓名", "Client name", "姓名", "户名", "客户名称", pii=True),
    C("name_en", "text", "英文姓名", "Client name (English)", "拼音姓名", pii=True),
    C("gender", "code", "性别", "Gender", codes="gender"),
    C("birth_date", "date", "出生日期", "Birth date", "生日", "出生年月日",
      note_zh="缺少时由身份证号推出", note_en="derived from the ID number when missing"),
    C("id_type", "text", "证件类型", "ID type", note_zh="仅用于识别身份证号", note_en="only to recognise resident IDs"),
    C("id_number", "id_number", "证件号码", "ID number", "身份证号", "证件号", "身份证号码", pii=True),
    C("phone", "phone", "手机号", "Mobile", "联系电话", "移动电话", "手机号码", "手机", "联系方式", pii=True),
    C("address", "text", "地址", "Address", "联系地址", "家庭住址", "住址", pii=True),
    C("card_number", "card", "卡号", "Card number", "借记卡号", "账号", "银行卡号", pii=True),
    C("occupation", "code", "职业", "Occupation", "职业类别", codes="occupation"),
    C("marital_status", "code", "婚姻状况", "Marital status", "婚姻", codes="marital"),
    C("monthly_income", "money", "月收入", "Monthly income", "月收入(元)"),
    C("monthly_spending", "money", "月支出", "Monthly spending", "月消费", "月均支出"),
    C("risk_level", "code", "风险等级", "Risk level", "风险承受能力", "风评等级", "风险评级", codes="risk"),
    C("risk_assessed_on", "date", "风评日期", "Risk assessed on", "风险评估日期", "测评日期"),
    C("payroll_flag", "bool", "代发工资", "Payroll", "是否代发", "代发工资标志"),
    C("pension_flag", "bool", "代发养老金", "Pension", "养老金代发", "是否养老金客户"),
    C("pay_day", "int", "代发日", "Pay day", "发薪日"),
    C("employer_corp_id", "key", "代发单位", "Employer ID", "代发单位客户号", "工作单位客户号"),
    C("mobile_banking", "bool", "手机银行", "Mobile banking", "是否开通手机银行", "手机银行签约"),
    C("open_date", "date", "开户日期", "Client since", "建立关系日期", "开户时间", "首次开户日期"),
    C("aum", "money", "月日均资产", "Month-average AUM", "日均AUM", "金融资产月日均", "月日均AUM",
      "AUM月日均", "资产月日均", required=True,
      note_zh="与「时点资产」至少有一列；有持仓明细时也以此为准",
      note_en="this or 'AUM at date' is needed; it wins over holdings when both are given"),
    C("aum_month_end", "money", "时点资产", "AUM at date", "资产余额", "金融资产余额", "时点AUM",
      "月末资产"),
), key=("client_id",), cli="--clients", needs=("branches", "rms")))

_table(Table("client_aum_monthly", "客户月日均资产表", "Client AUM by month",
             "客户 × 月份一行", "one row per client and month", (
    C("month_end", "date", "数据日期", "Date", *_DATE[1:], required=True,
      note_zh="同一月份的多个日期取最新", note_en="a month is identified by its year and month"),
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("aum", "money", "月日均资产", "Month-average AUM", "日均AUM", "金融资产月日均", "月日均AUM", required=True),
    C("aum_month_end", "money", "时点资产", "AUM at date", "资产余额", "月末资产"),
), key=("month_end", "client_id"), cli="--client_aum_monthly", needs=("clients",)))

_table(Table("products", "产品货架", "Product shelf", "每个产品一行", "one row per product", (
    C("product_id", "key", "产品代码", "Product code", *_PRODUCT_ID[1:], required=True),
    C("name_zh", "text", "产品名称", "Product name", "产品简称", required=True),
    C("name_en", "text", "英文名称", "Product name (English)"),
    C("category", "code", "产品类型", "Category", "资产类别", "产品类别", "产品大类", codes="category",
      required=True),
    C("risk_level", "code", "风险等级", "Risk rating", "产品风险等级", "风险评级", codes="product_risk"),
    C("liquidity", "code", "流动性", "Liquidity", "赎回方式", codes="liquidity"),
    C("expected_return", "rate", "业绩比较基准", "Expected return", "预期收益率", "参考收益率"),
    C("term_days", "int", "期限(天)", "Term (days)", "期限", "产品期限"),
    C("on_shelf", "bool", "是否在售", "On sale", "在售", "销售状态"),
), key=("product_id",), cli="--products"))

_table(Table("holdings_monthly", "资产余额表", "Holdings", "客户 × 产品 × 日期一行",
             "one row per client, product and date", (
    C("month_end", "date", "数据日期", "Date", *_DATE[1:],
      note_zh="缺少时取导入的截至日期", note_en="when missing: the import's as-of date"),
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("product_id", "key", "产品代码", "Product code", *_PRODUCT_ID[1:], required=True),
    C("product_name", "text", "产品名称", "Product name", "产品简称",
      note_zh="无产品货架时用于建立产品", note_en="names the product when no shelf is imported"),
    C("category", "code", "产品类型", "Category", "资产类别", "产品类别", codes="category",
      note_zh="无产品货架时必填", note_en="needed when no product shelf is imported"),
    C("balance", "money", "余额", "Balance", "持仓市值", "参考市值", "时点余额", "市值", "持仓金额", required=True),
    C("avg_balance", "money", "月日均余额", "Month-average balance", "日均余额", "月日均"),
    C("cost", "money", "成本", "Cost", "持仓成本", "投资本金", "本金"),
    C("pnl", "money", "浮动盈亏", "P&L", "盈亏", "持仓盈亏",
      note_zh="无成本列时 成本 = 余额 − 浮动盈亏", note_en="cost = balance - P&L when there is no cost column"),
    C("maturity_date", "date", "到期日", "Maturity", "产品到期日", "到期日期"),
), key=("month_end", "client_id", "product_id", "maturity_date"), cli="--holdings",
   needs=("clients", "products")))

_table(Table("transactions", "交易流水", "Transactions", "每笔交易一行", "one row per transaction", (
    C("txn_date", "date", "交易日期", "Date", "记账日期", "交易时间", "入账日期", required=True),
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("txn_type", "code", "交易类型", "Type", "摘要", "交易摘要", "业务类型", codes="txn_type"),
    C("direction", "code", "借贷标志", "Debit/credit", "借贷方向", "收付标志", "借贷", codes="direction",
      note_zh="交易类型不识别时据此判断存入/支出", note_en="decides in or out when the type is not recognised"),
    C("amount", "money", "交易金额", "Amount", "发生额", "金额", required=True),
    C("channel", "code", "交易渠道", "Channel", "渠道", codes="channel"),
    C("product_id", "key", "产品代码", "Product code", *_PRODUCT_ID[1:]),
    C("counterparty_name", "text", "对方户名", "Counterparty", "对方名称", pii=True),
    C("counterparty_bank", "text", "对方行名", "Other bank", "对方开户行", "对方银行"),
), cli="--transactions", needs=("clients",)))

_table(Table("insurance_policies", "保单明细", "Insurance policies", "每张保单一行", "one row per policy", (
    C("policy_id", "key", "保单号", "Policy no.", "保单号码", required=True),
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("product_id", "key", "产品代码", "Product code", *_PRODUCT_ID[1:], required=True),
    C("insurer", "text", "保险公司", "Insurer"),
    C("start_date", "date", "生效日期", "Start date", "承保日期", "投保日期", required=True),
    C("annual_premium", "money", "年缴保费", "Annual premium", "保费", "年保费", required=True),
    C("premium_years", "int", "缴费年期", "Premium years", "缴费年限", "缴费期"),
    C("illustrated_yield", "rate", "演示收益率", "Illustrated yield", "演示利率"),
    C("actual_yield", "rate", "实际收益率", "Actual yield", "实际结算利率", "结算利率"),
    C("cooling_off_end", "date", "犹豫期截止日", "Cooling-off ends", "犹豫期截止日期", "犹豫期到期日",
      note_zh="缺少时取生效日期后 15 天", note_en="when missing: 15 days after the start"),
), key=("policy_id",), cli="--insurance_policies", needs=("clients", "products")))

_table(Table("digital_activity", "手机银行活跃表", "Mobile banking activity", "客户 × 月份一行",
             "one row per client and month", (
    C("month_end", "date", "数据日期", "Date", *_DATE[1:], required=True),
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("mobile_logins", "int", "登录次数", "Logins", "手机银行登录次数", "月登录次数", required=True),
), key=("month_end", "client_id"), cli="--digital_activity", needs=("clients",)))

_table(Table("contact_history", "客户联络记录", "CRM contact history", "每次联络一行", "one row per contact", (
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("rm_id", "key", "客户经理工号", "RM ID", "工号", "联系人工号", required=True),
    C("contact_date", "date", "联络日期", "Date", "联系日期", "跟进日期", required=True),
    C("channel", "code", "联络方式", "Channel", "联系方式", "跟进方式", codes="contact_channel"),
    C("topic", "code", "联络主题", "Topic", "联系事由", codes="contact_topic"),
    C("outcome", "code", "联络结果", "Outcome", "跟进结果", codes="contact_outcome"),
), cli="--contact_history", needs=("clients", "rms")))

_table(Table("family_members", "家庭成员", "Family members", "每位家庭成员一行", "one row per family member", (
    C("client_id", "key", "客户号", "Client ID", *_CLIENT_ID, required=True),
    C("relation", "code", "关系", "Relation", "与客户关系", codes="relation", required=True),
    C("birth_date", "date", "出生日期", "Birth date", required=True),
), cli="--family_members", needs=("clients",)))

_table(Table("corp_clients", "对公客户", "Corporate clients", "每户企业一行", "one row per company", (
    C("corp_id", "key", "客户号", "Company ID", "对公客户号", "企业客户号", *_CLIENT_ID[1:], required=True),
    C("branch_id", "key", "所属机构", "Branch ID", *_BRANCH_ID[1:], required=True),
    C("rm_id", "key", "客户经理工号", "RM ID", *_RM_ID),
    C("name_zh", "text", "客户名称", "Company name", "企业名称", "单位名称", "户名", required=True),
    C("name_en", "text", "英文名称", "Company name (English)"),
    C("credit_code", "text", "统一社会信用代码", "Credit code", "信用代码"),
    C("industry", "code", "行业", "Industry", "所属行业", "行业类别", codes="industry"),
    C("size", "code", "规模", "Size", "企业规模", codes="corp_size"),
    C("founded_on", "date", "成立日期", "Founded", "注册日期"),
    C("registered_capital", "money", "注册资本", "Registered capital"),
    C("employees", "int", "员工人数", "Employees", "从业人数"),
    C("payroll_headcount", "int", "代发人数", "Payroll headcount", "代发工资人数"),
    C("annual_revenue", "money", "营业收入", "Annual revenue", "年营业收入"),
    C("debt_ratio", "rate", "资产负债率", "Debt ratio"),
    C("overdue_tax", "bool", "欠税", "Tax arrears", "是否欠税"),
    C("has_guarantor", "bool", "有担保", "Guaranteed", "是否担保"),
    C("open_date", "date", "开户日期", "Client since", "建立关系日期"),
), key=("corp_id",), cli="--corp_clients", needs=("branches", "rms")))

_table(Table("corp_accounts", "对公存贷", "Corporate accounts", "每户企业一行", "one row per company", (
    C("corp_id", "key", "客户号", "Company ID", "对公客户号", "企业客户号", required=True),
    C("avg_daily_deposit", "money", "日均存款", "Average daily deposit", "存款日均", required=True),
    C("loan_balance", "money", "贷款余额", "Loan balance"),
    C("loan_interest_12m", "money", "利息收入", "Interest income", "贷款利息收入"),
    C("fee_income_12m", "money", "中间业务收入", "Fee income", "中收"),
    C("max_overdue_days", "int", "最长逾期天数", "Longest overdue (days)", "逾期天数"),
    C("default_flag", "bool", "违约标志", "Default", "是否违约", "不良标志"),
), key=("corp_id",), cli="--corp_accounts", needs=("corp_clients",)))

_table(Table("corp_transactions", "对公结算流水", "Corporate settlements", "每笔结算一行",
             "one row per payment", (
    C("payer_id", "key", "付款方", "Payer ID", "付款方客户号", required=True),
    C("payee_id", "key", "收款方", "Payee ID", "收款方客户号", required=True),
    C("txn_date", "date", "日期", "Date", "交易日期", required=True),
    C("amount", "money", "金额", "Amount", "交易金额", required=True),
), cli="--corp_transactions", needs=("corp_clients",)))
# fmt: on

# Headers that carry authentication data (JR/T 0171-2020 C3): a file with one is refused whole.
CREDENTIAL_HEADER = (
    r"密码|口令|pin码|\bpin\b|cvv|cvc|cvn|安全码|磁道|track|password|passwd|\bpwd\b|卡片?有效期"
)

# The order in which a file set is loaded (references point backwards).
LOAD_ORDER = tuple(TABLES)


def header_index() -> dict[str, list[tuple[str, str]]]:
    """Normalised header text -> [(table, column)] for every default spelling."""
    from analytics.importer.normalize import header_key

    out: dict[str, list[tuple[str, str]]] = {}
    for t in TABLES.values():
        for c in t.columns:
            for h in c.headers:
                out.setdefault(header_key(h), [])
                if (t.name, c.name) not in out[header_key(h)]:
                    out[header_key(h)].append((t.name, c.name))
    return out
