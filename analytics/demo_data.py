"""Deterministic synthetic warehouse snapshot (the demo data).

``build_snapshot(path, clients, ...)`` writes a complete DuckDB file with every WAREHOUSE table of
``analytics/schema.sql`` filled with believable data for a few bank branches: Chinese names with
their pinyin, valid 18-digit resident ID numbers, a heavy-tailed AUM distribution across the tier
lines of ``settings.toml``, a product shelf, 13 month-ends of holdings, a year of transactions,
bank-insurance policies, mobile-banking activity, RM contact history and corporate clients with a
payment network and a default flag.

Command line::

    python -m analytics.demo_data --clients 24000 --branches 3 --months 13 --seed 20261123 \\
        --out data/warehouse/demo.duckdb

Determinism: the same arguments give the same contents in every table (``meta.created_at`` aside);
another seed gives other contents. Each branch draws from its own numpy ``SeedSequence``
(seed, branch, section) and depends on nothing else, ids are assigned in branch order, and the
branches are written one after another, so memory stays bounded by a branch or two. Big builds
generate the next branch in a worker subprocess while the current one is written (same output).
Python's salted ``hash()`` and DuckDB's ``random()`` are never used.

Scale (bench/bench_generate.py, 2-core machine): 1M clients in 50 branches take about 100 s and
3 GB peak RSS (plus about 0.5 GB in the generator worker), longer when other work competes for the
cores; the default 24k-client, 3-branch demo takes about 2.5 s.

Model in short (all numbers are generator parameters, not business rules; the tier lines only come
in through ``tier_lines()``):

* About 28% of clients are dormant accounts (睡眠户): a small current balance, no other product,
  no salary or pension, no client-initiated transaction in the 12 months, few in an RM's book.
* The active clients' AUM at the as-of date is drawn from a lognormal body plus a Pareto tail
  (stratified, so every branch gets its share of each part of the distribution) and given out by
  rank of a score of age, income and occupation (older, higher-income and business-owning clients
  are richer). Together the top 2.5% of clients hold about 80% of AUM and time deposits are about
  70% of deposits, as in published Chinese retail-bank figures (bench/demo_realism.py).
* A client holds a current deposit plus a Poisson number of other positions that grows with wealth;
  categories depend on risk level, age and wealth. About 2% of positions are above the client's
  risk level (suitability breaches). Term products carry maturity dates and roll over; funds follow
  shared monthly NAV paths (with a past bull market, a bear market and a recovery), so some fund
  holders sit at -15% or -20%. New money arrives and some money leaves during the 13 months, so
  tiers move for a minority of clients.
* Corporate clients: about 2.5% of borrowers default (none without a loan); a fifth of the
  companies stop settling on a day within the window (churn), one in ten came during it, so the
  lifetime-value models have dropout and part-year profits to work with.
* ``client_aum_monthly`` is derived at the end in SQL from ``holdings_monthly``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import queue
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics.schema import schema_part, warehouse_table_names
from analytics.settings import load_settings, tier_lines

GENERATOR_VERSION = "2.0"  # 2.0: dormant accounts, deposit mix, corporate churn and defaults

_EPOCH = dt.date(1970, 1, 1)
_YEAR = 365.2425

# ----------------------------------------------------------------------------------------------
# Name tables
# ----------------------------------------------------------------------------------------------

# Common surnames with rough frequencies (%), plus a few compound surnames at low frequency.
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "Wang", 7.1), ("李", "Li", 7.0), ("张", "Zhang", 6.8), ("刘", "Liu", 5.4),
    ("陈", "Chen", 4.6), ("杨", "Yang", 3.1), ("黄", "Huang", 2.2), ("赵", "Zhao", 2.0),
    ("吴", "Wu", 1.9), ("周", "Zhou", 1.9), ("徐", "Xu", 1.5), ("孙", "Sun", 1.5),
    ("马", "Ma", 1.3), ("朱", "Zhu", 1.2), ("胡", "Hu", 1.1), ("郭", "Guo", 1.1),
    ("何", "He", 1.0), ("林", "Lin", 1.0), ("高", "Gao", 1.0), ("罗", "Luo", 0.9),
    ("郑", "Zheng", 0.8), ("梁", "Liang", 0.8), ("谢", "Xie", 0.7), ("宋", "Song", 0.6),
    ("唐", "Tang", 0.6), ("许", "Xu", 0.6), ("韩", "Han", 0.6), ("冯", "Feng", 0.6),
    ("邓", "Deng", 0.6), ("曹", "Cao", 0.5), ("彭", "Peng", 0.5), ("曾", "Zeng", 0.5),
    ("肖", "Xiao", 0.5), ("田", "Tian", 0.5), ("董", "Dong", 0.5), ("袁", "Yuan", 0.4),
    ("潘", "Pan", 0.4), ("于", "Yu", 0.4), ("蒋", "Jiang", 0.4), ("蔡", "Cai", 0.4),
    ("余", "Yu", 0.4), ("杜", "Du", 0.4), ("叶", "Ye", 0.4), ("程", "Cheng", 0.4),
    ("苏", "Su", 0.3), ("魏", "Wei", 0.3), ("吕", "Lyu", 0.3), ("丁", "Ding", 0.3),
    ("任", "Ren", 0.3), ("沈", "Shen", 0.3), ("姚", "Yao", 0.3), ("卢", "Lu", 0.3),
    ("姜", "Jiang", 0.3), ("崔", "Cui", 0.3), ("钟", "Zhong", 0.3), ("谭", "Tan", 0.3),
    ("陆", "Lu", 0.3), ("汪", "Wang", 0.3), ("范", "Fan", 0.2), ("金", "Jin", 0.2),
    ("石", "Shi", 0.2), ("廖", "Liao", 0.2), ("贾", "Jia", 0.2), ("夏", "Xia", 0.2),
    ("韦", "Wei", 0.2), ("付", "Fu", 0.2), ("方", "Fang", 0.2), ("白", "Bai", 0.2),
    ("邹", "Zou", 0.2), ("孟", "Meng", 0.2), ("熊", "Xiong", 0.2), ("秦", "Qin", 0.2),
    ("邱", "Qiu", 0.2), ("江", "Jiang", 0.2), ("尹", "Yin", 0.2), ("薛", "Xue", 0.2),
    ("闫", "Yan", 0.2), ("段", "Duan", 0.2), ("雷", "Lei", 0.2), ("侯", "Hou", 0.2),
    ("龙", "Long", 0.2), ("史", "Shi", 0.2), ("陶", "Tao", 0.1), ("黎", "Li", 0.1),
    ("贺", "He", 0.1), ("顾", "Gu", 0.1), ("毛", "Mao", 0.1), ("郝", "Hao", 0.1),
    ("龚", "Gong", 0.1), ("邵", "Shao", 0.1), ("万", "Wan", 0.1), ("钱", "Qian", 0.1),
    ("严", "Yan", 0.1), ("武", "Wu", 0.1), ("戴", "Dai", 0.1), ("莫", "Mo", 0.1),
    ("孔", "Kong", 0.1), ("向", "Xiang", 0.1), ("汤", "Tang", 0.1), ("常", "Chang", 0.1),
    ("欧阳", "Ouyang", 0.03), ("司马", "Sima", 0.01), ("诸葛", "Zhuge", 0.01),
    ("上官", "Shangguan", 0.01), ("司徒", "Situ", 0.01), ("东方", "Dongfang", 0.005),
    ("慕容", "Murong", 0.005), ("皇甫", "Huangfu", 0.005),
]  # fmt: skip

# Given-name characters with pinyin (no vowel-initial syllables, so no apostrophes are needed).
GIVEN_MALE: list[tuple[str, str]] = [
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("刚", "gang"), ("平", "ping"), ("辉", "hui"),
    ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("斌", "bin"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("阳", "yang"), ("建", "jian"),
    ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("东", "dong"), ("海", "hai"), ("峰", "feng"),
    ("亮", "liang"), ("成", "cheng"), ("晨", "chen"), ("博", "bo"), ("昊", "hao"), ("子", "zi"),
    ("轩", "xuan"), ("泽", "ze"), ("睿", "rui"), ("航", "hang"), ("毅", "yi"), ("庆", "qing"),
    ("德", "de"), ("立", "li"), ("永", "yong"), ("春", "chun"), ("荣", "rong"), ("忠", "zhong"),
    ("福", "fu"), ("振", "zhen"), ("宏", "hong"), ("新", "xin"), ("晓", "xiao"), ("天", "tian"),
]  # fmt: skip
GIVEN_FEMALE: list[tuple[str, str]] = [
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("英", "ying"), ("玲", "ling"), ("桂", "gui"),
    ("兰", "lan"), ("燕", "yan"), ("萍", "ping"), ("红", "hong"), ("梅", "mei"), ("琳", "lin"),
    ("婷", "ting"), ("雪", "xue"), ("倩", "qian"), ("颖", "ying"), ("慧", "hui"), ("洁", "jie"),
    ("佳", "jia"), ("琪", "qi"), ("欣", "xin"), ("怡", "yi"), ("悦", "yue"), ("涵", "han"),
    ("晶", "jing"), ("蕾", "lei"), ("丹", "dan"), ("凤", "feng"), ("珍", "zhen"), ("淑", "shu"),
    ("莉", "li"), ("璐", "lu"), ("雯", "wen"), ("思", "si"), ("梦", "meng"), ("晓", "xiao"),
    ("玉", "yu"), ("月", "yue"), ("云", "yun"), ("美", "mei"), ("琴", "qin"), ("春", "chun"),
    ("秋", "qiu"), ("可", "ke"),
]  # fmt: skip

# ----------------------------------------------------------------------------------------------
# Geography: cities with districts and their 6-digit administrative (ID-number) region codes
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    zh: str
    en: str
    prefix: str  # address prefix up to the city: '北京市' or '广东省广州市'
    districts: tuple[tuple[str, int], ...]
    income_factor: float
    pension_day: int


CITIES: list[City] = [
    City("北京", "Beijing", "北京市", (("朝阳区", 110105), ("海淀区", 110108), ("东城区", 110101),
         ("西城区", 110102), ("丰台区", 110106)), 1.30, 15),
    City("上海", "Shanghai", "上海市", (("浦东新区", 310115), ("徐汇区", 310104), ("静安区", 310106),
         ("黄浦区", 310101), ("闵行区", 310112)), 1.30, 8),
    City("广州", "Guangzhou", "广东省广州市", (("天河区", 440106), ("越秀区", 440104),
         ("海珠区", 440105), ("白云区", 440111)), 1.15, 10),
    City("深圳", "Shenzhen", "广东省深圳市", (("福田区", 440304), ("南山区", 440305),
         ("罗湖区", 440303), ("宝安区", 440306)), 1.30, 10),
    City("杭州", "Hangzhou", "浙江省杭州市", (("西湖区", 330106), ("上城区", 330102),
         ("拱墅区", 330105), ("滨江区", 330108)), 1.15, 20),
    City("南京", "Nanjing", "江苏省南京市", (("鼓楼区", 320106), ("玄武区", 320102),
         ("秦淮区", 320104), ("建邺区", 320105)), 1.10, 12),
    City("成都", "Chengdu", "四川省成都市", (("武侯区", 510107), ("锦江区", 510104),
         ("青羊区", 510105), ("成华区", 510108)), 1.00, 5),
    City("武汉", "Wuhan", "湖北省武汉市", (("江汉区", 420103), ("武昌区", 420106),
         ("洪山区", 420111), ("江岸区", 420102)), 1.00, 6),
    City("西安", "Xi'an", "陕西省西安市", (("雁塔区", 610113), ("碑林区", 610103),
         ("新城区", 610102), ("未央区", 610112)), 0.95, 10),
    City("天津", "Tianjin", "天津市", (("和平区", 120101), ("南开区", 120104), ("河西区", 120103),
         ("河北区", 120105)), 1.05, 18),
    City("重庆", "Chongqing", "重庆市", (("渝中区", 500103), ("江北区", 500105),
         ("南岸区", 500108), ("九龙坡区", 500107)), 0.95, 9),
    City("苏州", "Suzhou", "江苏省苏州市", (("姑苏区", 320508), ("吴中区", 320506),
         ("虎丘区", 320505), ("相城区", 320507)), 1.10, 12),
]  # fmt: skip

# Region codes of other provinces (birthplaces of clients who moved to the branch's city).
OTHER_REGIONS: list[int] = [
    410105, 370102, 130102, 430102, 340103, 360102, 230102, 210102, 350102, 140105, 450102,
    530102, 620102, 220102, 410302, 371302, 320303, 340202, 420502, 511302, 130602, 150102,
    460105, 520102, 640104, 650102, 630102,
]  # fmt: skip

ROADS: list[tuple[str, str]] = [
    ("朝阳路", "Chaoyang Road"), ("人民路", "Renmin Road"), ("解放路", "Jiefang Road"),
    ("建设路", "Jianshe Road"), ("中山路", "Zhongshan Road"), ("和平路", "Heping Road"),
    ("长安街", "Chang'an Avenue"), ("南京路", "Nanjing Road"), ("新华路", "Xinhua Road"),
    ("文化路", "Wenhua Road"), ("东风路", "Dongfeng Road"), ("胜利路", "Shengli Road"),
    ("青年路", "Qingnian Road"), ("光明路", "Guangming Road"), ("复兴路", "Fuxing Road"),
    ("花园路", "Huayuan Road"), ("滨江路", "Binjiang Road"), ("学府路", "Xuefu Road"),
    ("金融街", "Jinrong Street"), ("科技路", "Keji Road"), ("世纪大道", "Shiji Avenue"),
    ("长江路", "Changjiang Road"), ("黄河路", "Huanghe Road"), ("湖滨路", "Hubin Road"),
    ("迎宾路", "Yingbin Road"), ("健康路", "Jiankang Road"), ("五一路", "Wuyi Road"),
    ("北京路", "Beijing Road"), ("天府大道", "Tianfu Avenue"), ("民主路", "Minzhu Road"),
    ("团结路", "Tuanjie Road"), ("幸福路", "Xingfu Road"), ("振兴路", "Zhenxing Road"),
    ("友谊路", "Youyi Road"), ("体育路", "Tiyu Road"), ("公园路", "Gongyuan Road"),
    ("航天路", "Hangtian Road"), ("丰收路", "Fengshou Road"), ("望江路", "Wangjiang Road"),
    ("西湖大道", "Xihu Avenue"), ("凤凰路", "Fenghuang Road"), ("锦绣路", "Jinxiu Road"),
    ("华山路", "Huashan Road"), ("泰山路", "Taishan Road"), ("昆仑路", "Kunlun Road"),
    ("松江路", "Songjiang Road"), ("珠江路", "Zhujiang Road"), ("银河路", "Yinhe Road"),
    ("紫荆路", "Zijing Road"), ("翠微路", "Cuiwei Road"), ("金桥路", "Jinqiao Road"),
    ("龙华路", "Longhua Road"), ("桃园路", "Taoyuan Road"), ("丽水路", "Lishui Road"),
    ("白云路", "Baiyun Road"), ("玉泉路", "Yuquan Road"), ("双塔路", "Shuangta Road"),
    ("春晖路", "Chunhui Road"), ("长宁路", "Changning Road"), ("嘉陵路", "Jialing Road"),
]  # fmt: skip

PHONE_PREFIXES = [
    130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 176, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199,
]  # fmt: skip
CARD_BINS = [622848, 622845, 621282]
OTHER_BANKS = [
    "招商银行", "工商银行", "建设银行", "中国银行", "交通银行", "浦发银行", "中信银行",
    "兴业银行", "民生银行", "平安银行", "邮储银行", "光大银行", "华夏银行", "网商银行",
]  # fmt: skip
_BANK_P = np.array([16, 15, 14, 12, 7, 5, 5, 5, 4, 5, 5, 3, 2, 2], float)

OCCUPATIONS = [
    "civil_servant", "teacher", "doctor", "engineer", "office_worker", "business_owner",
    "worker", "farmer", "freelancer", "retired", "student", "other",
]  # fmt: skip
_OCC = {name: i for i, name in enumerate(OCCUPATIONS)}
# (age_from, weights over OCCUPATIONS)
_OCC_BY_AGE = [
    (18, [1, 1, 0, 1, 8, 1, 10, 2, 6, 0, 65, 5]),
    (23, [7, 6, 4, 12, 30, 6, 14, 3, 10, 0, 3, 5]),
    (35, [8, 6, 4, 10, 25, 12, 16, 5, 8, 0, 0, 6]),
    (50, [8, 6, 4, 7, 18, 12, 18, 8, 6, 6, 0, 7]),
    (55, [5, 4, 3, 4, 10, 10, 12, 8, 4, 35, 0, 5]),
    (60, [1, 1, 1, 1, 2, 6, 3, 6, 2, 75, 0, 2]),
    (65, [0, 0, 0.3, 0, 0, 2, 0, 2, 0.5, 94, 0, 1.2]),
]
# monthly income median (元) and lognormal sigma per occupation; for 'retired' it is the pension
_INCOME = [
    (9000, 0.35), (8500, 0.30), (13000, 0.45), (15000, 0.45), (8000, 0.45), (22000, 0.85),
    (5800, 0.30), (3500, 0.45), (7500, 0.60), (4800, 0.45), (1500, 0.50), (5000, 0.50),
]  # fmt: skip
_OCC_WEALTH = np.array([0.2, 0.1, 0.3, 0.2, 0.0, 0.9, -0.3, -0.5, 0.0, 0.55, -0.8, -0.2])
_EMPLOYEE_OCC = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0], bool)

# Age groups used by several tables: <30, 30-49, 50-59, 60-69, 70+
_AGE_GROUP_EDGES = np.array([30, 50, 60, 70])
_AGE_BANDS = [(18, 29, 0.20), (30, 39, 0.24), (40, 49, 0.22), (50, 59, 0.16), (60, 69, 0.11),
              (70, 79, 0.05), (80, 90, 0.02)]  # fmt: skip
_RISK_BY_AGE = np.array([
    [8, 22, 38, 22, 10], [10, 27, 38, 18, 7], [16, 36, 34, 11, 3], [28, 42, 24, 5, 1],
    [45, 40, 13, 2, 0],
], float)  # fmt: skip
_MOBILE_BY_AGE = np.array([0.94, 0.88, 0.74, 0.52, 0.22])
_LOGINS_BY_AGE = np.array([26.0, 20.0, 13.0, 8.0, 4.0])
MARITAL = ["single", "married", "divorced", "widowed"]
_MARITAL_BY_AGE = [  # (age_from, weights)
    (18, [93, 7, 0, 0]), (25, [55, 44, 1, 0]), (30, [18, 76, 6, 0]), (40, [6, 84, 8, 2]),
    (60, [3, 82, 7, 8]), (70, [2, 66, 4, 28]),
]  # fmt: skip

# ----------------------------------------------------------------------------------------------
# Product shelf
# ----------------------------------------------------------------------------------------------

CATEGORIES = [
    "current_deposit", "time_deposit", "large_cd", "savings_bond", "wealth", "money_fund",
    "bond_fund", "mixed_fund", "equity_fund", "protection_insurance", "annuity_insurance",
    "precious_metal", "trust",
]  # fmt: skip
_CAT = {name: i for i, name in enumerate(CATEGORIES)}

# How a position's balance moves: current deposit random walk, fixed principal, accrual at the
# expected return, market value on a NAV path, insurance premiums paid.
KIND_CUR, KIND_FIXED, KIND_ACCR, KIND_MKT, KIND_INS = range(5)


@dataclass(frozen=True)
class Product:
    zh: str
    en: str
    category: str
    risk: int
    liquidity: str
    expected_return: float | None
    term_days: int | None
    on_shelf: bool = True
    roll: float = 0.0  # chance a maturing position rolls over into the same product
    popularity: float = 1.0
    market: str = ""  # NAV model: 'equity' | 'mixed' | 'bond' | 'gold' | 'silver' | 'wealth'
    beta: float = 0.0
    alpha: float = 0.0  # extra monthly drift


def _p(*args, **kw) -> Product:
    return Product(*args, **kw)


# Risk ratings follow the product as banks' shelves rate them: equity funds, index funds included,
# are R4 (a broad index fund carries the equity market's risk); mixed funds R3; trusts R4-R5.
PRODUCTS: list[Product] = [
    _p("活期储蓄", "Current Savings Account", "current_deposit", 1, "T+0", 0.0005, None),
    _p("整存整取三个月", "Time Deposit 3 Months", "time_deposit", 1, "term", 0.0065, 91, roll=0.9, popularity=0.8),
    _p("整存整取六个月", "Time Deposit 6 Months", "time_deposit", 1, "term", 0.0085, 182, roll=0.9),
    _p("整存整取一年", "Time Deposit 1 Year", "time_deposit", 1, "term", 0.0095, 365, roll=0.85, popularity=1.6),
    _p("整存整取二年", "Time Deposit 2 Years", "time_deposit", 1, "term", 0.0105, 730, roll=0.8),
    _p("整存整取三年", "Time Deposit 3 Years", "time_deposit", 1, "term", 0.0125, 1095, roll=0.8, popularity=1.4),
    _p("整存整取五年", "Time Deposit 5 Years", "time_deposit", 1, "term", 0.0130, 1825, roll=0.6, popularity=0.5),
    _p("大额存单一年期", "Large-Denomination CD 1 Year", "large_cd", 1, "term", 0.0120, 365, roll=0.5),
    _p("大额存单二年期", "Large-Denomination CD 2 Years", "large_cd", 1, "term", 0.0130, 730, roll=0.4, popularity=0.7),
    _p("大额存单三年期", "Large-Denomination CD 3 Years", "large_cd", 1, "term", 0.0155, 1095, roll=0.4, popularity=1.2),
    _p("大额存单三年期（2023年发行）", "Large-Denomination CD 3 Years (2023 issue)", "large_cd", 1, "term", 0.0265, 1095, on_shelf=False, popularity=0.8),
    _p("储蓄国债（凭证式）三年期", "Savings Bond (Certificate) 3 Years", "savings_bond", 1, "term", 0.0195, 1095, popularity=1.2),
    _p("储蓄国债（凭证式）五年期", "Savings Bond (Certificate) 5 Years", "savings_bond", 1, "term", 0.0200, 1825, popularity=0.6),
    _p("储蓄国债（电子式）三年期", "Savings Bond (Electronic) 3 Years", "savings_bond", 1, "term", 0.0193, 1095),
    _p("储蓄国债（电子式）五年期", "Savings Bond (Electronic) 5 Years", "savings_bond", 1, "term", 0.0198, 1825, popularity=0.5),
    _p("天天利现金管理", "Daily Yield Cash Management", "wealth", 1, "T+0", 0.0150, None, popularity=1.8),
    _p("周周盈七天持有期", "Weekly Gain 7-Day Holding", "wealth", 1, "T+1", 0.0165, None),
    _p("稳享固收90天", "Steady Fixed Income 90-Day", "wealth", 2, "term", 0.0240, 91, roll=0.85),
    _p("稳享固收180天", "Steady Fixed Income 180-Day", "wealth", 2, "term", 0.0260, 182, roll=0.85, popularity=1.3),
    _p("稳享固收一年", "Steady Fixed Income 1-Year", "wealth", 2, "term", 0.0280, 365, roll=0.75, popularity=1.3),
    _p("季季红最短持有90天", "Quarterly Red 90-Day Minimum Holding", "wealth", 2, "T+1", 0.0250, None),
    _p("稳享固收两年（2024款）", "Steady Fixed Income 2-Year (2024 series)", "wealth", 2, "term", 0.0330, 730, on_shelf=False, popularity=0.6),
    _p("睿盈固收+一年", "Ruiying Fixed Income Plus 1-Year", "wealth", 3, "term", 0.0330, 365, roll=0.5),
    _p("睿盈固收+两年", "Ruiying Fixed Income Plus 2-Year", "wealth", 3, "term", 0.0360, 730, roll=0.4, popularity=0.6),
    _p("双周盈固收+", "Biweekly Gain Fixed Income Plus", "wealth", 3, "T+1", 0.0300, None),
    _p("进取权益增强一年", "Enterprising Equity Enhanced 1-Year", "wealth", 4, "term", 0.0450, 365, roll=0.3, popularity=0.5),
    _p("臻选多资产混合", "Select Multi-Asset Mixed", "wealth", 4, "T+3", None, None, popularity=0.5, market="wealth", beta=0.35),
    _p("卓越量化对冲", "Excellence Quant Hedge", "wealth", 5, "T+3", None, None, popularity=0.3, market="wealth", beta=0.25, alpha=0.001),
    _p("鑫元货币A", "Xinyuan Money Market Fund A", "money_fund", 1, "T+0", 0.0135, None, popularity=1.5),
    _p("泰和货币B", "Taihe Money Market Fund B", "money_fund", 1, "T+1", 0.0142, None),
    _p("恒信纯债债券A", "Hengxin Pure Bond Fund A", "bond_fund", 2, "T+1", 0.0300, None, market="bond"),
    _p("泰和短债债券C", "Taihe Short-Term Bond Fund C", "bond_fund", 2, "T+1", 0.0250, None, market="bond", popularity=1.2),
    _p("远航中短债债券A", "Yuanhang Short-to-Medium Bond Fund A", "bond_fund", 2, "T+1", 0.0270, None, market="bond"),
    _p("鑫元稳健配置混合", "Xinyuan Balanced Allocation Mixed Fund", "mixed_fund", 3, "T+1", None, None, market="mixed", beta=0.55),
    _p("泰和价值成长混合", "Taihe Value Growth Mixed Fund", "mixed_fund", 3, "T+1", None, None, market="mixed", beta=0.75),
    _p("远航灵活配置混合", "Yuanhang Flexible Allocation Mixed Fund", "mixed_fund", 3, "T+1", None, None, market="mixed", beta=0.65),
    _p("恒信均衡优选混合", "Hengxin Balanced Select Mixed Fund", "mixed_fund", 3, "T+3", None, None, market="mixed", beta=0.8, popularity=0.8),
    _p("鑫元新兴产业混合（暂停申购）", "Xinyuan Emerging Industries Mixed Fund (subscriptions suspended)", "mixed_fund", 4, "T+3", None, None, on_shelf=False, market="mixed", beta=1.1, alpha=-0.002, popularity=0.6),
    _p("鑫元沪深300指数A", "Xinyuan CSI 300 Index Fund A", "equity_fund", 4, "T+1", None, None, market="equity", beta=1.0, popularity=1.4),
    _p("远航红利低波指数", "Yuanhang Dividend Low-Volatility Index Fund", "equity_fund", 4, "T+1", None, None, market="equity", beta=0.7, alpha=0.002),
    _p("泰和中证500指数增强", "Taihe CSI 500 Enhanced Index Fund", "equity_fund", 4, "T+1", None, None, market="equity", beta=1.15),
    _p("远航新能源产业股票", "Yuanhang New Energy Industry Equity Fund", "equity_fund", 4, "T+3", None, None, market="equity", beta=1.3, alpha=-0.004),
    _p("恒信医药健康股票", "Hengxin Healthcare Equity Fund", "equity_fund", 4, "T+3", None, None, market="equity", beta=1.1, alpha=-0.003),
    _p("泰和消费精选股票", "Taihe Consumer Select Equity Fund", "equity_fund", 4, "T+3", None, None, market="equity", beta=1.05, alpha=-0.002),
    _p("鑫元科技创新股票", "Xinyuan Tech Innovation Equity Fund", "equity_fund", 4, "T+3", None, None, market="equity", beta=1.25, alpha=0.001),
    _p("福佑重大疾病保险", "Fuyou Critical Illness Insurance", "protection_insurance", 1, "policy", None, None, popularity=1.4),
    _p("康宁百万医疗保险", "Kangning Million Medical Insurance", "protection_insurance", 1, "policy", None, None),
    _p("安途综合意外保险", "Antu Comprehensive Accident Insurance", "protection_insurance", 1, "policy", None, None, popularity=0.7),
    _p("福佑定期寿险", "Fuyou Term Life Insurance", "protection_insurance", 1, "policy", None, None, popularity=0.5),
    _p("鑫享年年分红型两全保险", "Xinxiang Participating Endowment Insurance", "annuity_insurance", 2, "policy", 0.0350, None),
    _p("金福年金保险", "Jinfu Annuity Insurance", "annuity_insurance", 1, "policy", 0.0300, None, popularity=1.2),
    _p("如意增额终身寿险", "Ruyi Increasing Whole Life Insurance", "annuity_insurance", 1, "policy", 0.0300, None, popularity=1.2),
    _p("鑫享分红两全保险（2019款）", "Xinxiang Participating Endowment (2019 series)", "annuity_insurance", 2, "policy", 0.0450, None, on_shelf=False, popularity=0.8),
    _p("如意积存金", "Ruyi Gold Accumulation Plan", "precious_metal", 3, "T+1", None, None, market="gold", popularity=1.5),
    _p("实物投资金条", "Investment Gold Bar", "precious_metal", 2, "T+3", None, None, market="gold"),
    _p("纸白银（已停售）", "Paper Silver (discontinued)", "precious_metal", 4, "T+0", None, None, on_shelf=False, market="silver", popularity=0.3),
    _p("恒信稳健集合资金信托", "Hengxin Steady Collective Trust", "trust", 4, "term", 0.0550, 730, roll=0.2),
    _p("恒信优选集合资金信托", "Hengxin Select Collective Trust", "trust", 4, "term", 0.0500, 365, roll=0.3),
    _p("泰和基础设施集合信托", "Taihe Infrastructure Collective Trust", "trust", 4, "term", 0.0580, 730, roll=0.2),
    _p("远航股权投资集合信托", "Yuanhang Private Equity Collective Trust", "trust", 5, "term", 0.0700, 1095),
    _p("泰和地产集合信托（已停售）", "Taihe Real Estate Collective Trust (discontinued)", "trust", 5, "term", 0.0850, 1095, on_shelf=False, popularity=0.6),
]  # fmt: skip

# Minimum position size per category (元): large CDs start at 20万, trusts at 100万 (regulatory
# minimums, not tier lines).
_CAT_MIN = np.zeros(len(CATEGORIES))
_CAT_MIN[_CAT["large_cd"]] = 200_000
_CAT_MIN[_CAT["trust"]] = 1_000_000
# Rounding of a new position's principal (元).
_CAT_ROUND = np.array([0.01, 100, 10_000, 100, 1000, 0.01, 100, 100, 100, 10, 1000, 10, 100_000])

# Category weights of a non-deposit position by client risk level C1..C5 (columns: CATEGORIES[1:]).
#                     TD  CD  SB  WL  MMF BF  MF  EF  PRT ANN PM  TR
_CAT_W = np.array([
    [44, 16, 10, 20, 10, 0, 0, 0, 6, 10, 3, 0],
    [36, 16, 8, 24, 8, 8, 0, 0, 6, 10, 4, 0],
    [27, 14, 5, 22, 6, 10, 9, 7, 6, 8, 5, 0],
    [18, 12, 3, 20, 5, 8, 12, 13, 6, 6, 5, 12],
    [14, 10, 2, 18, 5, 6, 13, 18, 5, 5, 6, 16],
], float)  # fmt: skip
# Multipliers by age group (<30, 30-49, 50-59, 60-69, 70+) and by tier index (0 = lowest tier).
_CAT_AGE = np.ones((12, 5))
_CAT_TIER = np.ones((12, 6))
for _c, _age_m, _tier_m in [
    ("time_deposit", [0.6, 0.9, 1.2, 1.6, 1.9], None),
    ("savings_bond", [0.3, 0.7, 1.3, 2.0, 2.2], None),
    ("money_fund", [1.8, 1.2, 0.9, 0.7, 0.5], [1.5, 1.1, 1.0, 0.8, 0.7, 0.6]),
    ("equity_fund", [1.3, 1.1, 0.8, 0.5, 0.3], None),
    ("mixed_fund", [1.1, 1.1, 0.9, 0.6, 0.4], None),
    ("protection_insurance", [0.8, 1.3, 0.8, 0.3, 0.05], [0.5, 1, 1, 1, 1, 1]),
    ("annuity_insurance", [0.3, 1.0, 1.3, 1.1, 0.7], [0.4, 1, 1.2, 1.3, 1.3, 1.3]),
    ("precious_metal", [0.8, 1.0, 1.2, 1.2, 1.0], None),
    ("wealth", None, [0.8, 1.0, 1.1, 1.2, 1.2, 1.2]),
    ("trust", None, [0, 0, 0, 1.0, 3.0, 5.0]),
    ("large_cd", None, [0, 0, 1.0, 2.0, 2.5, 2.5]),
]:
    if _age_m is not None:
        _CAT_AGE[_CAT[_c] - 1] = _age_m
    if _tier_m is not None:
        _CAT_TIER[_CAT[_c] - 1] = _tier_m

TXN_TYPES = [
    "deposit", "withdrawal", "transfer_in", "transfer_out", "purchase", "redemption", "payroll",
    "pension", "card_spend",
]  # fmt: skip
_TT = {name: i for i, name in enumerate(TXN_TYPES)}
CHANNELS = ["counter", "mobile", "atm", "online", "pos", "system"]
_CH = {name: i for i, name in enumerate(CHANNELS)}
# Channel mix by age group for electronic-capable client operations (counter, mobile, online).
_CH_ELEC = np.array([[8, 80, 12], [22, 66, 12], [40, 52, 8], [58, 38, 4], [84, 15, 1]], float)
# Cash operations: counter vs ATM.
_CH_CASH = np.array([[25, 75], [35, 65], [50, 50], [65, 35], [80, 20]], float)

CONTACT_CHANNELS = ["visit", "call", "wechat", "sms", "event"]
CONTACT_TOPICS = ["maturity", "review", "birthday", "product", "service", "event"]
CONTACT_OUTCOMES = ["reached", "no_answer", "visit_booked", "product_discussed", "declined"]
# Contacts per year by tier index; channel mix by tier group (lower tiers, gold, high-end).
_CONTACTS_PER_YEAR = np.array([0.6, 3.0, 9.0, 18.0, 30.0, 40.0])
_CONTACT_CH = np.array([[3, 45, 27, 25, 0], [8, 45, 32, 10, 5], [20, 38, 30, 2, 10]], float)
_CONTACT_OUT = np.array([  # by channel
    [40, 0, 5, 45, 10], [52, 26, 8, 10, 4], [72, 22, 2, 2, 2], [70, 28, 0, 0, 2],
    [55, 0, 5, 40, 0],
], float)  # fmt: skip

# Corporate clients
INDUSTRIES = [
    "manufacturing", "wholesale", "retail", "construction", "logistics", "it", "catering",
    "real_estate", "agriculture", "services",
]  # fmt: skip
_IND_P = np.array([18, 16, 12, 9, 8, 9, 8, 4, 5, 11], float)
_IND_WORDS: list[list[tuple[str, str]]] = [
    [("机械制造", "Machinery Manufacturing"), ("电子科技", "Electronic Technology"),
     ("精密仪器", "Precision Instruments"), ("新材料", "New Materials"), ("化工", "Chemical"),
     ("汽车零部件", "Auto Parts"), ("包装制品", "Packaging Products")],
    [("商贸", "Trading"), ("贸易", "Trade"), ("医药贸易", "Pharmaceutical Trading"),
     ("进出口", "Import & Export"), ("建材贸易", "Building Materials Trading")],
    [("商业连锁", "Retail Chain"), ("超市", "Supermarket"), ("百货", "Department Store"),
     ("便利店", "Convenience Stores")],
    [("建筑工程", "Construction Engineering"), ("建设工程", "Construction"),
     ("装饰工程", "Decoration Engineering"), ("市政工程", "Municipal Engineering")],
    [("物流", "Logistics"), ("供应链管理", "Supply Chain Management"), ("运输", "Transportation"),
     ("仓储", "Warehousing")],
    [("信息技术", "Information Technology"), ("网络科技", "Network Technology"),
     ("软件", "Software"), ("数据科技", "Data Technology")],
    [("餐饮管理", "Catering Management"), ("餐饮", "Catering"), ("食品", "Foods")],
    [("房地产开发", "Real Estate Development"), ("置业", "Property"),
     ("物业管理", "Property Management")],
    [("农业科技", "Agricultural Technology"), ("生态农业", "Ecological Agriculture"),
     ("农产品", "Agricultural Products")],
    [("企业管理咨询", "Management Consulting"), ("人力资源", "Human Resources"),
     ("文化传媒", "Culture & Media"), ("会计服务", "Accounting Services"),
     ("教育科技", "Education Technology")],
]  # fmt: skip
_IND_REV_PER_EMP = np.array([45, 120, 60, 55, 50, 40, 25, 150, 30, 35], float) * 1e4
_BRAND_1 = [
    ("华", "Hua"), ("鑫", "Xin"), ("恒", "Heng"), ("瑞", "Rui"), ("金", "Jin"), ("宏", "Hong"),
    ("盛", "Sheng"), ("嘉", "Jia"), ("永", "Yong"), ("德", "De"), ("中", "Zhong"), ("天", "Tian"),
    ("远", "Yuan"), ("新", "Xin"), ("东", "Dong"), ("通", "Tong"), ("信", "Xin"), ("博", "Bo"),
    ("创", "Chuang"), ("海", "Hai"), ("佳", "Jia"), ("明", "Ming"), ("兴", "Xing"), ("正", "Zheng"),
    ("长", "Chang"), ("广", "Guang"), ("泰", "Tai"), ("丰", "Feng"), ("润", "Run"), ("卓", "Zhuo"),
    ("凯", "Kai"), ("联", "Lian"), ("诚", "Cheng"), ("宇", "Yu"), ("融", "Rong"), ("锦", "Jin"),
]  # fmt: skip
_BRAND_2 = [
    ("联", "lian"), ("达", "da"), ("盛", "sheng"), ("泰", "tai"), ("源", "yuan"), ("通", "tong"),
    ("丰", "feng"), ("发", "fa"), ("兴", "xing"), ("茂", "mao"), ("辉", "hui"), ("创", "chuang"),
    ("科", "ke"), ("力", "li"), ("诚", "cheng"), ("润", "run"), ("晟", "sheng"), ("峰", "feng"),
    ("昌", "chang"), ("隆", "long"), ("华", "hua"), ("信", "xin"), ("鼎", "ding"), ("禾", "he"),
    ("锐", "rui"), ("星", "xing"), ("腾", "teng"), ("翔", "xiang"), ("美", "mei"), ("顺", "shun"),
]  # fmt: skip
SIZES = ["micro", "small", "medium", "large"]
_SIZE_P = np.array([45, 35, 15, 5], float)
_PAYDAYS = np.array([5, 8, 10, 12, 15, 18, 20, 25, 28])

# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def _month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_end(mi: np.ndarray) -> np.ndarray:
    """Day number of the last day of month index ``mi``."""
    return (np.asarray(mi) + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    y = m.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = m.astype(np.int64) % 12 + 1
    da = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return y, mo, da


def _from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day), the day clipped to the month's length (Feb 29 -> 28)."""
    mi = (np.asarray(y) - 1970) * 12 + np.asarray(m) - 1
    first = mi.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return np.minimum(first + np.asarray(d) - 1, _month_end(mi))


def _exact_age(birth: np.ndarray, on: int) -> np.ndarray:
    by, bm, bd = _ymd(birth)
    oy, om, od = _ymd(np.array([on]))
    return oy[0] - by - ((om[0] < bm) | ((om[0] == bm) & (od[0] < bd)))


def _age_group(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(_AGE_GROUP_EDGES, age, side="right")


def _pick_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) weight matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    total = cum[:, -1]
    u = rng.random(len(probs)) * total
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _pick(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    w = np.asarray(weights, float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _by_age(table: list[tuple[int, list[float]]], age: np.ndarray) -> np.ndarray:
    """Rows of an (age_from, weights) table for each age."""
    starts = np.array([a for a, _ in table])
    w = np.array([row for _, row in table], float)
    return w[np.searchsorted(starts, age, side="right") - 1]


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) matrix of the decimal digits of non-negative integers."""
    p = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(values, np.int64)[:, None] // p) % 10


def _ascii(mat: np.ndarray) -> pa.Array:
    """String array from an (n, width) matrix of ASCII codes."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    return pa.array(mat.view(f"S{mat.shape[1]}").ravel()).cast(pa.string())


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    nums = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width, "0"), "")


def _take(values: pa.Array | list, idx: np.ndarray) -> pa.Array:
    """values[idx] as an Arrow array; negative indices become NULL."""
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    idx = np.asarray(idx, np.int64)
    neg = idx < 0
    return pc.take(values, pa.array(np.where(neg, 0, idx), mask=neg if neg.any() else None))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, np.int64)), pa.string())


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, np.int64).astype(np.int32), type=pa.date32(), mask=null)


def _money(x: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.round(np.asarray(x, float), 2), mask=null)


def _round_to(x: np.ndarray, step: np.ndarray | float) -> np.ndarray:
    step = np.asarray(step, float)
    return np.maximum(np.round(x / step) * step, step)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per item: (item index per output row, 0-based position within the item)."""
    counts = np.asarray(counts, np.int64)
    item = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(item)) - starts[item]
    return item, pos


def _luhn_digit(digits: np.ndarray) -> np.ndarray:
    """Luhn check digit for rows of payload digits (the check digit will be appended)."""
    rev = digits[:, ::-1]
    dbl = rev.copy()
    dbl[:, 0::2] *= 2
    dbl = np.where(dbl > 9, dbl - 9, dbl)
    return (10 - dbl.sum(axis=1) % 10) % 10


_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of an 18-digit resident ID number."""
    s = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[s % 11]


# ----------------------------------------------------------------------------------------------
# Global context: month-ends, product shelf arrays, NAV paths, AUM distribution
# ----------------------------------------------------------------------------------------------

_NAV_MONTHS = 96  # NAV history (months before as-of) for fund positions


@dataclass
class _Ctx:
    seed: int
    as_of: int  # day number
    months: int
    me: np.ndarray  # month-end day numbers, oldest first
    mi_as_of: int  # month index of as_of
    txn_lo: int  # first day of the 12-month transaction window
    lines: np.ndarray  # tier lines (元), lowest first, lines[0] == 0
    p_cat: np.ndarray
    p_risk: np.ndarray
    p_term: np.ndarray  # 0 for open-ended
    p_ret: np.ndarray  # expected return (0 if NULL)
    p_kind: np.ndarray
    p_roll: np.ndarray
    p_pop: np.ndarray
    p_shelf: np.ndarray
    nav: np.ndarray  # (n_products, _NAV_MONTHS + 1), last column = as-of month-end
    aum_grid_f: np.ndarray
    aum_grid_logx: np.ndarray
    product_ids: pa.Array
    corp_offsets: np.ndarray  # first global corp index per branch (+ total at the end)
    corp_end: np.ndarray  # per global corp index: day after which it no longer settles
    client_offsets: np.ndarray  # same for clients
    rms_per_branch: int


def _product_arrays():
    cat = np.array([_CAT[p.category] for p in PRODUCTS])
    kind = np.empty(len(PRODUCTS), np.int64)
    for i, p in enumerate(PRODUCTS):
        if p.category == "current_deposit":
            kind[i] = KIND_CUR
        elif p.category in ("time_deposit", "large_cd", "savings_bond", "trust"):
            kind[i] = KIND_FIXED
        elif p.category in ("protection_insurance", "annuity_insurance"):
            kind[i] = KIND_INS
        elif p.market:
            kind[i] = KIND_MKT
        else:
            kind[i] = KIND_ACCR
    return dict(
        p_cat=cat,
        p_risk=np.array([p.risk for p in PRODUCTS]),
        p_term=np.array([p.term_days or 0 for p in PRODUCTS]),
        p_ret=np.array([p.expected_return or 0.0 for p in PRODUCTS]),
        p_kind=kind,
        p_roll=np.array([p.roll for p in PRODUCTS]),
        p_pop=np.array([p.popularity for p in PRODUCTS]),
        p_shelf=np.array([p.on_shelf for p in PRODUCTS]),
    )


def _nav_paths(rng: np.random.Generator) -> np.ndarray:
    """Monthly NAV per product, index 0 = _NAV_MONTHS months before as-of, last = as-of.

    A shared equity market factor pinned at a few knots (a bull run to a peak 44 months back, a
    bear market to a trough 20 months back, then a partial recovery) with random wiggles between
    them, so every seed has fund holders who bought near the peak and sit at -15%..-30%. Equity
    and mixed funds load on it (beta); bond funds drift up quietly; gold trends up, silver swings.
    """
    h = _NAV_MONTHS
    knots_back = np.array([h, 60, 44, 20, 0])
    knots_level = np.array([0.0, 0.22, 0.44, 0.06, 0.24])  # log level of the market
    back = np.arange(h, -1, -1)  # months before as-of of each column
    trend = np.interp(-back, -knots_back, knots_level)
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0, 0.04, h))])
    market_level = trend + walk - np.interp(-back, -knots_back, walk[h - knots_back])
    market = np.diff(market_level)
    gold = 0.009 + rng.normal(0, 0.035, h)
    silver = 0.004 + rng.normal(0, 0.06, h)
    rates = rng.normal(0, 0.0025, h)
    nav = np.ones((len(PRODUCTS), h + 1))
    for i, p in enumerate(PRODUCTS):
        if not p.market:
            continue
        eps = rng.normal(0, 1, h)
        if p.market == "equity":
            r = p.beta * market + p.alpha + 0.02 * eps
        elif p.market == "mixed":
            r = p.beta * market + p.alpha + 0.012 * eps
        elif p.market == "wealth":
            r = 0.002 + p.beta * market + p.alpha + 0.008 * eps
        elif p.market == "bond":
            r = (p.expected_return or 0.025) / 12 + rates + 0.002 * eps
        elif p.market == "gold":
            r = gold + 0.004 * eps
        else:
            r = silver + 0.01 * eps
        nav[i, 1:] = np.exp(np.cumsum(r))
    return nav


# AUM at the as-of date of an active client: lognormal body (median 7千) + Pareto tail from 30万
# (4.2% of active clients), capped at 2亿. With the dormant accounts below, the top 2.5% of
# clients hold about 80% of AUM, as published by Chinese retail banks (招商银行's 金葵花 and above,
# about 2.5% of its retail clients, hold about 80% of its retail AUM): bench/demo_realism.py.
_AUM_BODY_MEDIAN, _AUM_BODY_SIGMA = 7_000.0, 1.35
_AUM_TAIL_SHARE, _AUM_TAIL_MIN, _AUM_TAIL_ALPHA, _AUM_CAP = 0.042, 300_000.0, 1.08, 2e8
# Dormant accounts (睡眠户): opened once (a payroll card of a former job, a student account) and
# not used since: no client-initiated transaction in the 12-month window, a current deposit only,
# a small balance (lognormal, median 150元, below 3万). By age group (<30, 30-49, 50-59, 60-69,
# 70+): about 28% of all clients, the young and the very old a little more often.
_DORMANT_BY_AGE = np.array([0.36, 0.26, 0.24, 0.24, 0.30])
_DORMANT_MEDIAN, _DORMANT_SIGMA, _DORMANT_CAP = 150.0, 1.4, 30_000.0


def _aum_grid() -> tuple[np.ndarray, np.ndarray]:
    logx = np.linspace(math.log(50.0), math.log(_AUM_CAP), 6000)
    z = (logx - math.log(_AUM_BODY_MEDIAN)) / (_AUM_BODY_SIGMA * math.sqrt(2))
    body = 0.5 * (1 + np.array([math.erf(v) for v in z]))
    x = np.exp(logx)
    tail = np.where(x < _AUM_TAIL_MIN, 0.0, 1 - (_AUM_TAIL_MIN / x) ** _AUM_TAIL_ALPHA)
    f = (1 - _AUM_TAIL_SHARE) * body + _AUM_TAIL_SHARE * tail
    f = np.maximum.accumulate(f + np.arange(len(f)) * 1e-15)
    return f, logx


def _make_ctx(
    seed: int,
    as_of: dt.date,
    months: int,
    client_counts: list[int],
    corp_counts: list[int],
    rms_per_branch: int,
) -> _Ctx:
    mi = _month_index(np.array([_day(as_of)]))[0]
    me = _month_end(np.arange(mi - months + 1, mi + 1))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    f, logx = _aum_grid()
    lines = np.array([line for _, line in tier_lines()], float)
    corp_offsets = np.concatenate([[0], np.cumsum(corp_counts)]).astype(np.int64)
    txn_lo = int(_month_end(np.array([mi - 12]))[0] + 1)
    # drawn for every company of the bank at once: a payment between branches stops with either end
    crng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    total = int(corp_offsets[-1])
    churned = crng.random(total) < _CORP_CHURN
    end_day = txn_lo + (crng.random(total) * (_day(as_of) - txn_lo)).astype(np.int64)
    return _Ctx(
        seed=seed,
        as_of=_day(as_of),
        months=months,
        me=me,
        mi_as_of=int(mi),
        txn_lo=txn_lo,
        lines=lines,
        nav=_nav_paths(rng),
        aum_grid_f=f,
        aum_grid_logx=logx,
        product_ids=_ids("P", 1, len(PRODUCTS), 4),
        corp_offsets=corp_offsets,
        corp_end=np.where(churned, end_day, _FAR),
        client_offsets=np.concatenate([[0], np.cumsum(client_counts)]).astype(np.int64),
        rms_per_branch=rms_per_branch,
        **_product_arrays(),
    )


# ----------------------------------------------------------------------------------------------
# Static tables
# ----------------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九十"


def _branch_geo(b: int) -> tuple[City, int]:
    """City and home-district index of branch b (0-based)."""
    city = CITIES[b % len(CITIES)]
    return city, (b // len(CITIES)) % len(city.districts)


def _branches_table(n: int) -> pa.Table:
    zh, en, city = [], [], []
    for b in range(n):
        road_zh, road_en = ROADS[b % len(ROADS)]
        k = b // len(ROADS)
        if k:
            suffix = _CN_DIGITS[k + 1] if k + 1 <= 10 else str(k + 1)
            zh.append(f"{road_zh}第{suffix}支行")
            en.append(f"{road_en} Sub-branch No. {k + 1}")
        else:
            zh.append(f"{road_zh}支行")
            en.append(f"{road_en} Sub-branch")
        city.append(_branch_geo(b)[0].zh)
    return pa.table({"branch_id": _ids("B", 1, n, 3), "name_zh": zh, "name_en": en, "city": city})


def _products_table() -> pa.Table:
    return pa.table(
        {
            "product_id": _ids("P", 1, len(PRODUCTS), 4),
            "name_zh": [p.zh for p in PRODUCTS],
            "name_en": [p.en for p in PRODUCTS],
            "category": [p.category for p in PRODUCTS],
            "risk_level": [f"R{p.risk}" for p in PRODUCTS],
            "liquidity": [p.liquidity for p in PRODUCTS],
            "expected_return": pa.array([p.expected_return for p in PRODUCTS], pa.float64()),
            "term_days": pa.array([p.term_days for p in PRODUCTS], pa.int32()),
            "on_shelf": [p.on_shelf for p in PRODUCTS],
        }
    )


_SURNAME_P = np.array([s[2] for s in SURNAMES]) / sum(s[2] for s in SURNAMES)
_SURNAME_ZH = pa.array([s[0] for s in SURNAMES])
_SURNAME_PY = pa.array([s[1] for s in SURNAMES])
_GIVEN = GIVEN_MALE + GIVEN_FEMALE
_GIVEN_ZH = pa.array([g[0] for g in _GIVEN] + [""])
_GIVEN_CAP = pa.array([g[1].capitalize() for g in _GIVEN] + [""])
_GIVEN_LOW = pa.array([g[1] for g in _GIVEN] + [""])


def _names(rng: np.random.Generator, male: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Chinese names and their pinyin ('王芳' -> 'Wang Fang', '欧阳明' -> 'Ouyang Ming')."""
    n = len(male)
    nm, nf = len(GIVEN_MALE), len(GIVEN_FEMALE)
    sur = rng.choice(len(SURNAMES), n, p=_SURNAME_P)
    g1 = np.where(male, rng.integers(0, nm, n), nm + rng.integers(0, nf, n))
    g2 = np.where(male, rng.integers(0, nm, n), nm + rng.integers(0, nf, n))
    g2 = np.where(rng.random(n) < 0.6, g2, len(_GIVEN))  # 40% single-character given names
    zh = _join(_take(_SURNAME_ZH, sur), _take(_GIVEN_ZH, g1), _take(_GIVEN_ZH, g2))
    en = _join(_take(_SURNAME_PY, sur), " ", _take(_GIVEN_CAP, g1), _take(_GIVEN_LOW, g2))
    return zh, en


# ----------------------------------------------------------------------------------------------
# One branch
# ----------------------------------------------------------------------------------------------


@dataclass
class _Offsets:
    """Running counts of the ids numbered across branches."""

    txn: int = 0
    corp_txn: int = 0
    policy: int = 0


def _number(tables: dict[str, pa.Table], off: _Offsets) -> dict[str, pa.Table]:
    """Shift a branch's txn_id / corp txn_id and add policy_id, continuing from ``off``."""
    out = dict(tables)
    for name, attr in (("transactions", "txn"), ("corp_transactions", "corp_txn")):
        if name in out:
            t = out[name]
            start = getattr(off, attr)
            out[name] = t.set_column(0, "txn_id", pc.add(t["txn_id"], pa.scalar(start, pa.int64())))
            setattr(off, attr, start + t.num_rows)
    t = out["insurance_policies"]
    out["insurance_policies"] = t.add_column(
        0, "policy_id", _ids("IP", off.policy + 1, t.num_rows, 10)
    )
    off.policy += t.num_rows
    return out


def _gen_branch(ctx: _Ctx, b: int) -> dict[str, pa.Table]:
    """All rows of branch b (0-based) as Arrow tables.

    Depends only on (ctx, b), so branches can be generated in any order or in another process.
    Ids that depend on earlier branches' row counts (txn_id, policy_id, corp txn_id) are numbered
    from 1 within the branch; ``_number()`` shifts them when the branches are stitched together.
    """
    n = int(ctx.client_offsets[b + 1] - ctx.client_offsets[b])
    n_rm = ctx.rms_per_branch

    def rng_for(section: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=(1, b, section)))

    city, home = _branch_geo(b)
    branch_id = f"B{b + 1:03d}"
    as_of = ctx.as_of
    out: dict[str, pa.Table] = {}

    # -- corporate clients (first: employers of payroll clients) ------------------------------
    n_corp = int(ctx.corp_offsets[b + 1] - ctx.corp_offsets[b])
    corp = _gen_corporates(ctx, rng_for(1), b, n_corp, city)
    out.update(corp.tables)

    # -- relationship managers ---------------------------------------------------------------
    rng = rng_for(2)
    rm_title = np.full(n_rm, 2)  # 0 private, 1 wealth, 2 client
    n_private = 1 if n_rm >= 4 else 0
    n_wealth = max(1, round(0.4 * n_rm)) if n_rm >= 2 else 0
    rm_title[:n_private] = 0
    rm_title[n_private : n_private + n_wealth] = 1
    rm_male = rng.random(n_rm) < 0.45
    rm_zh, rm_en = _names(rng, rm_male)
    rm_ids = _ids("R", b * n_rm + 1, n_rm, 4)
    out["rms"] = pa.table(
        {
            "rm_id": rm_ids,
            "branch_id": pa.array([branch_id] * n_rm),
            "name_zh": rm_zh,
            "name_en": rm_en,
            "title": _take(["private", "wealth", "client"], rm_title),
            "hire_date": _dates(as_of - rng.integers(300, 20 * 365, n_rm)),
        }
    )
    if n_corp:
        corp_rm = np.where(rng.random(n_corp) < 0.88, _choose_rm(rng, rm_title, 2, n_corp), -1)
        out["corp_clients"] = out["corp_clients"].append_column("rm_id", _take(rm_ids, corp_rm))

    # -- clients --------------------------------------------------------------------------------
    rng = rng_for(3)
    age_band = _pick(rng, [w for *_, w in _AGE_BANDS], n)
    lo = np.array([a for a, _, _ in _AGE_BANDS])[age_band]
    hi = np.array([a for _, a, _ in _AGE_BANDS])[age_band] + 1
    age_days = np.clip((lo + rng.random(n) * (hi - lo)) * _YEAR, 18 * _YEAR + 2, 91 * _YEAR - 2)
    birth = as_of - age_days.astype(np.int64)
    age = _exact_age(birth, as_of)
    ag = _age_group(age)
    male = rng.random(n) < np.where(age >= 70, 0.44, 0.49)
    occ = _pick_rows(rng, _by_age(_OCC_BY_AGE, age))
    med = np.array([m for m, _ in _INCOME])[occ] * city.income_factor
    sig = np.array([s for _, s in _INCOME])[occ]
    income = _round_to(med * np.exp(rng.normal(0, 1, n) * sig), 100)
    spend_share = np.where(
        rng.random(n) < 0.06, rng.uniform(0.9, 1.3, n), rng.uniform(0.35, 0.85, n)
    )
    spending = np.maximum(_round_to(income * spend_share, 100), 800)
    marital = _pick_rows(rng, _by_age(_MARITAL_BY_AGE, age))

    # AUM at as-of: dormant accounts hold a small current balance; the active clients get
    # stratified quantiles of the heavy-tailed distribution, given out by rank of a wealth score
    # (age peaking in the early sixties, income, occupation, noise).
    dormant = rng.random(n) < _DORMANT_BY_AGE[ag]
    active = np.flatnonzero(~dormant)
    na = len(active)
    u = (np.arange(na) + rng.random(na)) / max(na, 1)
    aum_sorted = np.exp(np.interp(u, ctx.aum_grid_f, ctx.aum_grid_logx))
    age_eff = -(((age - 62) / 26.0) ** 2)
    score = (
        0.9 * (age_eff - age_eff.mean()) / (age_eff.std() + 1e-9)
        + 0.8 * (np.log(income) - np.log(income).mean()) / (np.log(income).std() + 1e-9)
        + _OCC_WEALTH[occ]
        + rng.normal(0, 1.1, n)
    )
    aum = np.round(
        np.minimum(rng.lognormal(math.log(_DORMANT_MEDIAN), _DORMANT_SIGMA, n), _DORMANT_CAP), 2
    )
    aum[active[np.argsort(score[active], kind="stable")]] = aum_sorted
    tier = np.searchsorted(ctx.lines, aum, side="right") - 1
    risk = 1 + _pick_rows(rng, _RISK_BY_AGE[ag])
    risk = np.minimum(risk + ((tier >= 3) & (rng.random(n) < 0.15)), 5)  # wealthier: a bit bolder

    tenure = np.where(
        rng.random(n) < 0.05, rng.uniform(0, 365, n), 365 + rng.exponential(7 * _YEAR, n)
    )
    tenure = np.minimum(tenure, np.minimum(age_days - 18 * _YEAR, 30 * _YEAR))
    open_date = as_of - np.maximum(tenure, 0).astype(np.int64)
    back = np.where(rng.random(n) < 0.72, rng.integers(0, 365, n), rng.integers(366, 730, n))
    assessed = np.maximum(as_of - back, open_date)
    mobile = rng.random(n) < _MOBILE_BY_AGE[ag]
    retired = occ == _OCC["retired"]
    payroll = (_EMPLOYEE_OCC[occ] & (age < 65) & (rng.random(n) < 0.45)) | (
        np.isin(occ, [_OCC["business_owner"], _OCC["freelancer"], _OCC["other"]])
        & (rng.random(n) < 0.08)
    )
    pension = retired & (rng.random(n) < 0.62)
    # a dormant account receives no salary or pension (those accounts are in use)
    payroll &= ~dormant
    pension &= ~dormant
    employer = np.full(n, -1)
    pay_day = np.where(
        pension,
        np.where(rng.random(n) < 0.85, city.pension_day, rng.integers(1, 29, n)),
        _PAYDAYS[rng.integers(0, len(_PAYDAYS), n)],
    )
    if corp.payroll_weight.sum() > 0:
        has_emp = payroll & (rng.random(n) < 0.6)
        p = corp.payroll_weight / corp.payroll_weight.sum()
        emp = rng.choice(n_corp, has_emp.sum(), p=p)
        employer[has_emp] = emp
        pay_day[has_emp] = corp.pay_day[emp]
    pay_day_null = ~(payroll | pension)

    # RM adoption: nearly all high-end clients, about half of the mass tier.
    p_rm = np.array([0.5, 0.78, 0.92, 0.96, 0.96, 0.965])[np.minimum(tier, 5)]
    p_rm = np.where(dormant, 0.15, p_rm)  # a sleeping account is rarely in an RM's book
    tier_grp = np.where(tier >= 4, 0, np.where(tier >= 2, 1, 2))
    rm_idx = np.full(n, -1)
    for g in range(3):
        m = tier_grp == g
        rm_idx[m] = _choose_rm(rng, rm_title, g, int(m.sum()), spread=True)
    rm_idx = np.where(rng.random(n) < p_rm, rm_idx, -1)

    name_zh, name_en = _names(rng, male)
    client_ids = _ids("C", int(ctx.client_offsets[b]) + 1, n, 8)
    out["clients"] = pa.table(
        {
            "client_id": client_ids,
            "branch_id": pa.array(np.full(n, branch_id)),
            "rm_id": _take(rm_ids, rm_idx),
            "name_zh": name_zh,
            "name_en": name_en,
            "gender": _take(["F", "M"], male.astype(np.int64)),
            "birth_date": _dates(birth),
            "id_number": _id_numbers(rng, birth, male, city),
            "phone": _join(
                _str(np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]),
                pc.utf8_lpad(_str(rng.integers(0, 10**8, n)), 8, "0"),
            ),
            "address": _addresses(rng, n, city, home),
            "card_number": _card_numbers(rng, n),
            "occupation": _take(OCCUPATIONS, occ),
            "marital_status": _take(MARITAL, marital),
            "monthly_income": _money(income),
            "monthly_spending": _money(spending),
            "risk_level": _take(["", "C1", "C2", "C3", "C4", "C5"], risk),
            "risk_assessed_on": _dates(assessed),
            "payroll_flag": pa.array(payroll),
            "pension_flag": pa.array(pension),
            "pay_day": pa.array(pay_day.astype(np.int32), mask=pay_day_null),
            "employer_corp_id": _take(corp.ids, employer) if n_corp else pa.nulls(n, pa.string()),
            "mobile_banking": pa.array(mobile),
            "open_date": _dates(open_date),
        }
    )

    out["family_members"] = _family(rng_for(4), client_ids, birth, age, marital, male, as_of)

    # -- holdings -------------------------------------------------------------------------------
    pos = _positions(ctx, rng_for(5), aum, tier, age, ag, risk, open_date, dormant)
    hold, ins = _holdings(ctx, rng_for(6), pos, client_ids)
    out["holdings_monthly"] = hold
    out["insurance_policies"] = _policies(ctx, ins, client_ids)

    # -- transactions, digital activity, contacts --------------------------------------------
    cl = dict(
        age=age, ag=ag, income=income, spending=spending, aum=aum, mobile=mobile,
        payroll=payroll, pension=pension, pay_day=pay_day, open_date=open_date, tier=tier,
        dormant=dormant,
    )  # fmt: skip
    out["transactions"] = _transactions(ctx, rng_for(7), cl, pos, ins, client_ids)
    out["digital_activity"] = _digital(ctx, rng_for(8), cl, client_ids)
    out["contact_history"] = _contacts(ctx, rng_for(9), cl, birth, rm_idx, rm_ids, pos, client_ids)
    return out


def _choose_rm(
    rng: np.random.Generator, title: np.ndarray, group: int, k: int, spread: bool = False
) -> np.ndarray:
    """RM indices for k clients. group 0: high-end (private/wealth RMs), 1: middle (wealth RMs),
    2: mass (client RMs). Falls back to any RM of the branch when a title is missing."""
    if len(title) == 0 or k == 0:
        return np.full(k, -1)
    pref = {0: [6, 4, 0.2], 1: [0.3, 8, 1.5], 2: [0.05, 2, 8]}[group]
    w = np.array([pref[t] for t in title], float)
    if spread:  # uneven book sizes
        w *= np.linspace(1.25, 0.8, len(title))
    return rng.choice(len(title), k, p=w / w.sum())


def _id_numbers(
    rng: np.random.Generator, birth: np.ndarray, male: np.ndarray, city: City
) -> pa.Array:
    """18-character resident ID numbers: region code, birth date, sequence (odd for men), check."""
    n = len(birth)
    local = np.array([c for _, c in city.districts])
    region = np.where(
        rng.random(n) < 0.72,
        local[rng.integers(0, len(local), n)],
        np.array(OTHER_REGIONS)[rng.integers(0, len(OTHER_REGIONS), n)],
    )
    y, m, d = _ymd(birth)
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    digits = np.concatenate(
        [_digits(region, 6), _digits(y * 10000 + m * 100 + d, 8), _digits(seq, 3)], axis=1
    )
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    mat = np.concatenate([digits + 48, check[:, None]], axis=1)
    return _ascii(mat)


def _card_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """19-digit debit card numbers: bank BIN + 12 digits + Luhn check digit."""
    bins = np.array(CARD_BINS)[rng.integers(0, len(CARD_BINS), n)]
    payload = np.concatenate(
        [
            _digits(bins, 6),
            _digits(rng.integers(0, 10**6, n), 6),
            _digits(rng.integers(0, 10**6, n), 6),
        ],
        axis=1,
    )
    mat = np.concatenate([payload, _luhn_digit(payload)[:, None]], axis=1) + 48
    return _ascii(mat)


def _addresses(rng: np.random.Generator, n: int, city: City, home: int) -> pa.Array:
    nd = len(city.districts)
    dist = np.where(rng.random(n) < 0.62, home, rng.integers(0, nd, n))
    prefix = pa.array([city.prefix + name for name, _ in city.districts])
    roads = pa.array([r for r, _ in ROADS])
    building = rng.random(n) < 0.7
    return _join(
        _take(prefix, dist),
        _take(roads, rng.integers(0, len(ROADS), n)),
        _str(1 + np.minimum(rng.geometric(0.012, n), 899)),
        "号",
        pc.if_else(pa.array(building), _join(_str(rng.integers(1, 31, n)), "栋"), ""),
        _str(rng.integers(1, 33, n) * 100 + rng.integers(1, 9, n)),
        "室",
    )


def _family(
    rng: np.random.Generator,
    client_ids: pa.Array,
    birth: np.ndarray,
    age: np.ndarray,
    marital: np.ndarray,
    male: np.ndarray,
    as_of: int,
) -> pa.Table:
    married = marital == 1
    sp_idx = np.flatnonzero(married)
    sp_birth = birth[sp_idx] + (
        np.where(male[sp_idx], 1, -1) * rng.normal(700, 900, len(sp_idx))
    ).astype(np.int64)
    sp_birth = np.minimum(sp_birth, as_of - int(20 * _YEAR))
    # children: none for the never-married, more for older generations
    kids_p = np.where(
        (age >= 60)[:, None],
        [[12, 38, 34, 16]],
        np.where((age >= 40)[:, None], [[12, 58, 26, 4]], [[30, 52, 16, 2]]),
    ).astype(float)
    kids = _pick_rows(rng, kids_p)
    kids = np.where((marital == 0) | (age < 23), 0, kids)
    ch_idx, _ = _expand(kids)
    ch_birth = birth[ch_idx] + (rng.uniform(22, 38, len(ch_idx)) * _YEAR).astype(np.int64)
    keep = ch_birth <= as_of - 30
    ch_idx, ch_birth = ch_idx[keep], ch_birth[keep]
    idx = np.concatenate([sp_idx, ch_idx])
    rel = np.concatenate([np.zeros(len(sp_idx), np.int64), np.ones(len(ch_idx), np.int64)])
    bd = np.concatenate([sp_birth, ch_birth])
    order = np.lexsort((bd, rel, idx))
    return pa.table(
        {
            "client_id": _take(client_ids, idx[order]),
            "relation": _take(["spouse", "child"], rel[order]),
            "birth_date": _dates(bd[order]),
        }
    )


# ----------------------------------------------------------------------------------------------
# Positions: one row per position instance (a rolled-over deposit is a new instance)
# ----------------------------------------------------------------------------------------------


@dataclass
class _Pos:
    client: np.ndarray
    product: np.ndarray
    start: np.ndarray  # first day held
    end: np.ndarray  # first day no longer held (maturity, redemption) or a far-future day
    maturity: np.ndarray  # -1 if none
    base: np.ndarray  # principal / cost at start (元); current deposit: balance at as-of
    fresh: np.ndarray  # bought at `start` (not a roll-over)
    outside: np.ndarray  # bought with money new to the bank (not switched from another position)
    end_kind: np.ndarray  # END_*: what happened at `end`
    avg_null: np.ndarray  # avg_balance not measured for this position
    cur_scale: np.ndarray  # per client: current deposit at as-of


_FAR = 10**6  # "never ends"
# What happened at a position's end: still held, rolled over into the same product, redeemed and
# switched into another product, redeemed and the money left the bank.
END_HELD, END_ROLLED, END_SWITCHED, END_LEFT = range(4)


def _legacy_substitutes() -> np.ndarray:
    """For each product: itself if on the shelf, else the first on-shelf product of its category
    at or below its risk level."""
    sub = np.arange(len(PRODUCTS))
    for i, p in enumerate(PRODUCTS):
        if not p.on_shelf:
            sub[i] = next(
                j for j, q in enumerate(PRODUCTS)
                if q.on_shelf and q.category == p.category and q.risk <= p.risk
            )  # fmt: skip
    return sub


_LEGACY_SUB = _legacy_substitutes()


def _choose_products(
    ctx: _Ctx,
    rng: np.random.Generator,
    amount: np.ndarray,
    risk: np.ndarray,
    ag: np.ndarray,
    tier: np.ndarray,
    allow_insurance: bool = True,
) -> np.ndarray:
    """Product index per slot; category by risk level, age and wealth, product within category.

    About 2% of slots are drawn as if the client were C5 and pick a product above the client's own
    risk level where the category has one: the suitability breaches the app must find.
    """
    k = len(amount)
    breach = rng.random(k) < 0.02
    eff = np.where(breach, 5, risk)
    ncat = len(CATEGORIES) - 1
    elig = np.zeros((6, ncat), bool)  # category has a product at or below the level
    for r in range(1, 6):
        for c in range(ncat):
            elig[r, c] = np.any((ctx.p_cat == c + 1) & (ctx.p_risk <= r))
    w = _CAT_W[eff - 1] * _CAT_AGE[:, ag].T * _CAT_TIER[:, np.minimum(tier, 5)].T
    w *= elig[eff] * (amount[:, None] >= _CAT_MIN[1:])
    if not allow_insurance:
        w[:, [_CAT["protection_insurance"] - 1, _CAT["annuity_insurance"] - 1]] = 0
    w[w.sum(axis=1) == 0, _CAT["time_deposit"] - 1] = 1.0  # nothing else fits: a time deposit
    cat = 1 + _pick_rows(rng, w)
    prod = np.empty(k, np.int64)
    for c in np.unique(cat):
        in_cat = np.flatnonzero(ctx.p_cat == c)
        for r in range(1, 6):
            for br in (False, True):
                m = (cat == c) & (risk == r) & (breach == br)
                cnt = int(m.sum())
                if not cnt:
                    continue
                cand = in_cat[ctx.p_risk[in_cat] <= r]
                if br and np.any(ctx.p_risk[in_cat] > r):
                    cand = in_cat[ctx.p_risk[in_cat] > r]
                elif br or len(cand) == 0:
                    cand = in_cat
                pw = ctx.p_pop[cand] * np.where(ctx.p_shelf[cand], 1.0, 0.35)
                prod[m] = cand[rng.choice(len(cand), cnt, p=pw / pw.sum())]
    return prod


def _positions(
    ctx: _Ctx,
    rng: np.random.Generator,
    aum: np.ndarray,
    tier: np.ndarray,
    age: np.ndarray,
    ag: np.ndarray,
    risk: np.ndarray,
    open_date: np.ndarray,
    dormant: np.ndarray,
) -> _Pos:
    n = len(aum)
    as_of, me0 = ctx.as_of, ctx.me[0]
    line1 = ctx.lines[1] if len(ctx.lines) > 1 else 50_000.0
    t5 = np.minimum(tier, 5)
    # number of non-deposit positions grows with wealth
    lam = np.where(
        tier == 0,
        1.3 + 1.7 * np.minimum(aum / line1, 1),
        np.array([0, 3.3, 4.2, 5.0, 6.0, 7.0])[t5],
    )
    k = np.where(dormant, 0, np.minimum(rng.poisson(lam), 9))  # dormant: a current deposit only
    cur_mean = np.where(
        tier == 0,
        0.38 + 0.5 * (1 - np.minimum(aum / line1, 1)),
        np.array([0, 0.22, 0.15, 0.11, 0.08, 0.06])[t5],
    )
    cur_share = np.where(
        k == 0, 1.0, np.clip(cur_mean * np.exp(rng.normal(0, 0.35, n)), 0.02, 0.98)
    )

    # slots alive at as-of
    sc, _ = _expand(k)
    w = rng.exponential(1.0, len(sc))
    wsum = np.bincount(sc, weights=w, minlength=n)
    x = aum[sc] * (1 - cur_share[sc]) * w / wsum[sc]
    prod = _choose_products(ctx, rng, x, risk[sc], ag[sc], tier[sc])
    # protection premiums are small whatever the slot size
    is_prot = ctx.p_cat[prod] == _CAT["protection_insurance"]
    x = np.where(
        is_prot, np.minimum(x, rng.lognormal(math.log(4000), 0.6, len(x)) * (1 + 0.4 * t5[sc])), x
    )

    opened = open_date[sc]
    span = as_of - me0
    # legacy (off-shelf) products are only held by clients who were here before the window
    recent = ~ctx.p_shelf[prod] & (opened > me0 - 400)
    prod = np.where(recent, _LEGACY_SUB[prod], prod)
    term = ctx.p_term[prod]
    legacy = ~ctx.p_shelf[prod]
    # open-ended: held for an exponential time; term: the current instance started within a term
    held_days = rng.exponential(np.where(ctx.p_kind[prod] == KIND_INS, 2200, 1400))
    start_open = as_of - held_days.astype(np.int64)
    start_term = as_of - (rng.random(len(sc)) * np.maximum(term, 1)).astype(np.int64)
    start = np.where(term > 0, start_term, start_open)
    # legacy (off-shelf) products were bought before the window
    leg_term = (
        as_of - term + 1 + (rng.random(len(sc)) * np.maximum(term - span - 2, 1)).astype(np.int64)
    )
    leg_open = me0 - 30 - rng.exponential(700, len(sc)).astype(np.int64)
    start = np.where(legacy, np.where(term > 0, leg_term, leg_open), start)
    late = start < opened  # before the relationship began: bought some time after opening
    start = np.where(
        late, opened + (rng.random(len(sc)) * (as_of - opened)).astype(np.int64), start
    )
    start = np.minimum(start, as_of)
    maturity = np.where(term > 0, start + term, -1)
    end = np.where(term > 0, maturity, _FAR)

    # principal / cost at start from the value x at as-of
    base = _base_from_value(ctx, prod, start, as_of, x)

    parts: list[dict[str, np.ndarray]] = []

    def add(client, product, start, end, maturity, base, fresh, end_kind):
        k = len(client)
        fresh = np.broadcast_to(fresh, (k,)).copy()
        parts.append(dict(client=client, product=product, start=start, end=end, maturity=maturity,
                          base=base, fresh=fresh, end_kind=np.full(k, end_kind, np.int64)))  # fmt: skip
        if "outside" in parts[0]:
            parts[-1]["outside"] = fresh.copy()
        return parts[-1]

    slots = add(sc, prod, start, end, maturity, base, True, END_HELD)

    # roll-over chains back in time for term products: the instance before the current one
    # matured the day the current one started (principal + interest renewed)
    c_part, c_idx = slots, np.flatnonzero(term > 0)
    c_cli, c_prod, c_start, c_base = sc[c_idx], prod[c_idx], start[c_idx], base[c_idx]
    links = []  # (successor part, successor indices, predecessor part)
    for _ in range(20):
        if not len(c_idx):
            break
        t = ctx.p_term[c_prod]
        can = (c_start > me0) & (c_start - t >= open_date[c_cli]) & ctx.p_shelf[c_prod]
        roll = can & (rng.random(len(c_idx)) < ctx.p_roll[c_prod])
        c_part["fresh"][c_idx[roll]] = False
        p_cli, p_prod, p_end = c_cli[roll], c_prod[roll], c_start[roll]
        p_start = p_end - t[roll]
        p_base = _round_principal(
            ctx, p_prod, c_base[roll] / (1 + ctx.p_ret[p_prod] * t[roll] / 365.0)
        )
        pred = add(p_cli, p_prod, p_start, p_end, p_end, p_base, True, END_ROLLED)
        links.append((c_part, c_idx[roll], pred))
        c_part, c_idx = pred, np.arange(len(p_cli))
        c_cli, c_prod, c_start, c_base = p_cli, p_prod, p_start, p_base
    # the first deposit of a chain is a round amount; each renewal adds the interest earned
    for succ, idx, pred in reversed(links):
        growth = 1 + ctx.p_ret[pred["product"]] * ctx.p_term[pred["product"]] / 365.0
        succ["base"][idx] = np.round(pred["base"] * growth, 2)

    # Most positions bought during the window were paid for by another position that matured or
    # was redeemed that day (a switch), not by new money: add that earlier position (which may
    # itself have been bought during the window, hence a few rounds).
    held = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    held["outside"] = held["fresh"].copy()
    parts[:] = [held]
    cand = np.flatnonzero(
        held["fresh"] & (held["start"] > me0) & (ctx.p_kind[held["product"]] != KIND_INS)
    )
    src_part = held
    for _ in range(4):
        sw = cand[rng.random(len(cand)) < 0.92]
        if not len(sw):
            break
        s_cli, s_day = src_part["client"][sw], src_part["start"][sw]
        s_val = src_part["base"][sw] * rng.uniform(0.85, 1.05, len(sw))
        s_prod = _choose_products(
            ctx, rng, s_val, risk[s_cli], ag[s_cli], tier[s_cli], allow_insurance=False
        )
        s_prod = np.where(
            ~ctx.p_shelf[s_prod] & (open_date[s_cli] > me0 - 400), _LEGACY_SUB[s_prod], s_prod
        )
        s_term = ctx.p_term[s_prod]
        s_start = np.where(
            s_term > 0, s_day - s_term, s_day - 30 - rng.exponential(600, len(sw)).astype(np.int64)
        )
        ok = s_start >= open_date[s_cli]
        src_part["outside"][sw[ok]] = False
        s_base = _base_from_value(ctx, s_prod, s_start, s_day, s_val)
        src_part = add(s_cli[ok], s_prod[ok], s_start[ok], s_day[ok], np.where(s_term > 0, s_day, -1)[ok],
                       s_base[ok], True, END_SWITCHED)  # fmt: skip
        cand = np.flatnonzero(src_part["start"] > me0)

    # money that left during the window: a position redeemed or matured and transferred out
    dep = np.flatnonzero((rng.random(n) < np.where(tier == 0, 0.15, 0.22)) & ~dormant)
    xd = aum[dep] * np.exp(rng.uniform(math.log(0.15), math.log(1.2), len(dep)))
    pd_ = _choose_products(ctx, rng, xd, risk[dep], ag[dep], tier[dep], allow_insurance=False)
    td = ctx.p_term[pd_]
    end_d = me0 + 1 + (rng.random(len(dep)) * (as_of - me0 - 5)).astype(np.int64)
    start_d = np.where(
        td > 0, end_d - td, end_d - 30 - rng.exponential(700, len(dep)).astype(np.int64)
    )
    ok = start_d >= open_date[dep]
    dep, xd, pd_, td, end_d, start_d = dep[ok], xd[ok], pd_[ok], td[ok], end_d[ok], start_d[ok]
    add(dep, pd_, start_d, end_d, np.where(td > 0, end_d, -1),
        _base_from_value(ctx, pd_, start_d, end_d, xd), True, END_LEFT)  # fmt: skip

    # the current deposit: one per client, held since the account was opened
    cur_bal = np.round(aum * cur_share, 2)
    add(np.arange(n), np.zeros(n, np.int64), open_date, np.full(n, _FAR), np.full(n, -1), cur_bal,
        False, END_HELD)  # fmt: skip

    allp = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    kind = ctx.p_kind[allp["product"]]
    p_null = np.where(ctx.p_cat[allp["product"]] == _CAT["precious_metal"], 0.4, 0.02)
    avg_null = ((kind == KIND_INS) | (rng.random(len(kind)) < p_null)) & (kind != KIND_CUR)
    return _Pos(**allp, avg_null=avg_null, cur_scale=cur_bal)


def _nav_index(ctx: _Ctx, days: np.ndarray) -> np.ndarray:
    """NAV column of the month-end before ``days`` (clipped to the NAV history)."""
    back = ctx.mi_as_of - _month_index(days) + 1
    return np.clip(_NAV_MONTHS - back, 0, _NAV_MONTHS)


def _base_from_value(
    ctx: _Ctx, prod: np.ndarray, start: np.ndarray, at: np.ndarray | int, value: np.ndarray
) -> np.ndarray:
    """Principal/cost at ``start`` of a position worth ``value`` at day ``at`` (rounded)."""
    kind = ctx.p_kind[prod]
    r = ctx.p_ret[prod]
    days = np.maximum(np.asarray(at) - start, 0)
    at_arr = np.broadcast_to(np.asarray(at), start.shape)
    growth = np.where(kind == KIND_ACCR, 1 + r * days / 365.0, 1.0)
    nav_ratio = ctx.nav[prod, _nav_index(ctx, at_arr)] / ctx.nav[prod, _nav_index(ctx, start)]
    growth = np.where(kind == KIND_MKT, nav_ratio, growth)
    return _round_principal(ctx, prod, value / growth)


def _round_principal(ctx: _Ctx, prod: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Round amounts the way people buy: time deposits to 100 元, CDs to 1万, trusts to 10万..."""
    step = _CAT_ROUND[ctx.p_cat[prod]]
    step = np.where(value / step < 5, np.maximum(step / 100, 0.01), step)
    return np.round(_round_to(value, step), 2)


def _holdings(ctx: _Ctx, rng: np.random.Generator, pos: _Pos, client_ids: pa.Array):
    """Expand position instances to month-end rows of holdings_monthly. Also returns the insurance
    instances (for policies and premium transactions)."""
    me, m = ctx.me, ctx.months
    j0 = np.searchsorted(me, pos.start, side="left")
    j1 = np.searchsorted(me, pos.end, side="left")
    cnt = np.maximum(j1 - j0, 0)
    item, k = _expand(cnt)
    j = j0[item] + k
    prod = pos.product[item]
    kind = ctx.p_kind[prod]
    cli = pos.client[item]
    t = me[j]
    st = pos.start[item]
    base = pos.base[item]
    bal = base.copy()
    cost = base.copy()

    # current deposits: a random walk in log terms ending at the as-of balance
    steps = rng.normal(0, 0.09, (len(pos.cur_scale), m))
    steps[:, -1] = 0
    walk = np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]  # walk[:, j] = sum of steps j..m-1
    walk = walk - walk[:, -1:]
    walk = np.concatenate([walk[:, 1:], np.zeros((len(walk), 1))], axis=1)
    mc = kind == KIND_CUR
    bal[mc] = np.round(base[mc] * np.exp(walk[cli[mc], j[mc]]), 2)
    prev_bal = np.where(j > 0, base * np.exp(walk[cli, np.maximum(j - 1, 0)]), bal)
    cost[mc] = bal[mc]

    r = ctx.p_ret[prod]
    ma = kind == KIND_ACCR
    bal[ma] = np.round(base[ma] * (1 + r[ma] * (t[ma] - st[ma]) / 365.0), 2)
    mk = kind == KIND_MKT
    ratio = (
        ctx.nav[prod[mk], _NAV_MONTHS - (m - 1 - j[mk])]
        / ctx.nav[prod[mk], _nav_index(ctx, st[mk])]
    )
    bal[mk] = np.round(base[mk] * ratio, 2)

    # insurance: balance and cost = premiums paid so far (bank AUM counts premiums)
    ins_pos = np.flatnonzero(ctx.p_kind[pos.product] == KIND_INS)
    ins = _insurance_terms(ctx, rng, pos, ins_pos)
    mi = kind == KIND_INS
    row_ins = np.searchsorted(ins_pos, item[mi])
    years = ((t[mi] - st[mi]) / _YEAR).astype(np.int64)
    paid = np.minimum(years + 1, ins["years"][row_ins])
    bal[mi] = paid * ins["premium"][row_ins]
    cost[mi] = bal[mi]

    # 月日均: pro rata in the month the position started, noisy for deposits and funds
    dim = me - np.concatenate([[_month_end(_month_index(me[:1]) - 1)[0]], me[:-1]])
    started = (j == j0[item]) & (st > t - dim[j]) & pos.outside[item]
    frac = np.where(started, (t - st + 1) / dim[j], 1.0)
    avg = bal * frac
    avg = np.where(
        mc,
        0.5 * (bal + np.where(started, bal, prev_bal)) * np.exp(rng.normal(0, 0.05, len(bal))),
        avg,
    )
    avg = np.where(mk, avg * np.exp(rng.normal(0, 0.015, len(bal))), avg)
    avg_null = pos.avg_null[item]

    mat = pos.maturity[item]
    table = pa.table(
        {
            "month_end": _dates(t),
            "client_id": pc.take(client_ids, pa.array(cli)),
            "product_id": pc.take(ctx.product_ids, pa.array(prod)),
            "balance": _money(bal),
            "avg_balance": _money(avg, avg_null),
            "cost": _money(cost),
            "maturity_date": _dates(np.where(mat < 0, 0, mat), mat < 0),
        }
    )
    ins.update(pos=ins_pos, client=pos.client[ins_pos], product=pos.product[ins_pos],
               start=pos.start[ins_pos])  # fmt: skip
    return table, ins


def _insurance_terms(ctx: _Ctx, rng: np.random.Generator, pos: _Pos, idx: np.ndarray) -> dict:
    """Premium, payment years and yields of each insurance position (aligned with ``idx``)."""
    k = len(idx)
    prod = pos.product[idx]
    protection = ctx.p_cat[prod] == _CAT["protection_insurance"]
    years = np.where(
        protection,
        np.array([1, 10, 20])[_pick(rng, [4, 2, 4], k)],
        np.array([1, 3, 5, 10])[_pick(rng, [3, 2.5, 3, 1.5], k)],
    )
    elapsed = ((ctx.as_of - pos.start[idx]) / _YEAR).astype(np.int64)
    paid = np.minimum(elapsed + 1, years)
    step = np.where(protection, 10.0, 1000.0)
    premium = _round_to(pos.base[idx] / paid, step)
    illustrated = ctx.p_ret[prod]
    actual = np.clip(illustrated - rng.uniform(-0.004, 0.016, k), 0.008, None)
    return dict(
        years=years,
        premium=premium,
        protection=protection,
        illustrated=illustrated,
        actual=np.round(actual, 4),
    )


def _policies(ctx: _Ctx, ins: dict, client_ids: pa.Array) -> pa.Table:
    """insurance_policies without policy_id (added by ``_number()``)."""
    return pa.table(
        {
            "client_id": pc.take(client_ids, pa.array(ins["client"])),
            "product_id": pc.take(ctx.product_ids, pa.array(ins["product"])),
            "start_date": _dates(ins["start"]),
            "annual_premium": _money(ins["premium"]),
            "premium_years": pa.array(ins["years"].astype(np.int32)),
            "illustrated_yield": pa.array(np.round(ins["illustrated"], 4), mask=ins["protection"]),
            "actual_yield": pa.array(ins["actual"], mask=ins["protection"]),
            "cooling_off_end": _dates(ins["start"] + 15),
        }
    )


# ----------------------------------------------------------------------------------------------
# Transactions, digital activity, contact history
# ----------------------------------------------------------------------------------------------


class _Rows:
    """Collects transaction rows from several generators as parallel numpy arrays."""

    def __init__(self):
        self.cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("client", "day", "type", "amount", "channel", "product", "bank", "init")
        }

    def add(self, client, day, ttype, amount, channel, product=None, bank=None, init=True):
        k = len(client)
        if not k:
            return
        self.cols["client"].append(np.asarray(client, np.int64))
        self.cols["day"].append(np.asarray(day, np.int64))
        self.cols["type"].append(np.broadcast_to(np.asarray(ttype, np.int64), (k,)))
        self.cols["amount"].append(np.asarray(amount, float))
        self.cols["channel"].append(np.broadcast_to(np.asarray(channel, np.int64), (k,)))
        self.cols["product"].append(
            np.full(k, -1) if product is None else np.asarray(product, np.int64)
        )
        self.cols["bank"].append(np.full(k, -1) if bank is None else np.asarray(bank, np.int64))
        self.cols["init"].append(np.broadcast_to(np.asarray(init, bool), (k,)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            k: (np.concatenate(v) if v else np.zeros(0, bool if k == "init" else np.int64))
            for k, v in self.cols.items()
        }


def _elec_channel(rng: np.random.Generator, ag: np.ndarray, mobile: np.ndarray) -> np.ndarray:
    """counter / mobile / online by age group; no mobile without mobile banking."""
    ch = np.array([_CH["counter"], _CH["mobile"], _CH["online"]])[_pick_rows(rng, _CH_ELEC[ag])]
    return np.where((ch == _CH["mobile"]) & ~mobile, _CH["counter"], ch)


def _cash_channel(rng: np.random.Generator, ag: np.ndarray) -> np.ndarray:
    return np.array([_CH["counter"], _CH["atm"]])[_pick_rows(rng, _CH_CASH[ag])]


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: int) -> np.ndarray:
    return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def _bank(rng: np.random.Generator, k: int, share: float) -> np.ndarray:
    """Other bank index for a share of k transfers (-1 = an account at this bank)."""
    return np.where(rng.random(k) < share, _pick(rng, _BANK_P, k), -1)


def _value_at(ctx: _Ctx, pos: _Pos, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    prod = pos.product[idx]
    kind = ctx.p_kind[prod]
    base = pos.base[idx]
    accr = base * (1 + ctx.p_ret[prod] * (day - pos.start[idx]) / 365.0)
    mkt = (
        base * ctx.nav[prod, _nav_index(ctx, day)] / ctx.nav[prod, _nav_index(ctx, pos.start[idx])]
    )
    return np.where(kind == KIND_ACCR, accr, np.where(kind == KIND_MKT, mkt, base))


def _transactions(
    ctx: _Ctx, rng: np.random.Generator, cl: dict, pos: _Pos, ins: dict, client_ids: pa.Array
) -> pa.Table:
    n = len(cl["age"])
    as_of, lo = ctx.as_of, ctx.txn_lo
    a_lo = np.maximum(lo, cl["open_date"])
    ag, mobile, income, spending = cl["ag"], cl["mobile"], cl["income"], cl["spending"]
    active_frac = (as_of - a_lo + 1) / (as_of - lo + 1)
    act = rng.gamma(2.0, 0.5, n) * ~cl["dormant"] * active_frac
    rows = _Rows()

    # salary and pension credits on the pay day of each of the 12 months (system postings)
    for flag, ttype in ((cl["payroll"], "payroll"), (cl["pension"], "pension")):
        who = np.flatnonzero(flag)
        c, k = _expand(np.full(len(who), 12))
        c = who[c]
        mi = ctx.mi_as_of - 11 + k
        y, mo = mi // 12 + 1970, mi % 12 + 1
        day = _from_ymd(y, mo, cl["pay_day"][c])
        amount = income[c] * (rng.uniform(0.97, 1.05, len(c)) if ttype == "payroll" else 1.0)
        if ttype == "payroll":  # year-end bonus paid with January's salary for many
            amount = amount * np.where(
                (mo == 1) & (rng.random(len(c)) < 0.6), rng.uniform(1.5, 4.0, len(c)), 1.0
            )
        ok = day >= a_lo[c]
        rows.add(c[ok], day[ok], _TT[ttype], np.round(amount[ok], 2), _CH["system"], init=False)

    # everyday client operations
    def draw(lam_by_age: list[float]) -> np.ndarray:
        c, _ = _expand(rng.poisson(np.array(lam_by_age)[ag] * act))
        return c

    c = draw([18, 14, 9, 5, 2])
    amt = np.clip(rng.lognormal(np.log(spending[c] / 15), 0.9), 5, 50_000)
    ch = np.where(mobile[c] & (rng.random(len(c)) < 0.35), _CH["mobile"], _CH["pos"])
    rows.add(c, _uniform_days(rng, a_lo[c], as_of), _TT["card_spend"], np.round(amt, 2), ch)

    c = draw([1.0, 1.3, 2.0, 3.0, 3.0])
    amt = _round_to(rng.lognormal(np.log(np.maximum(income[c] * 0.5, 1000)), 0.8), 100)
    rows.add(c, _uniform_days(rng, a_lo[c], as_of), _TT["deposit"], amt, _cash_channel(rng, ag[c]))

    c = draw([2.0, 3.0, 4.0, 5.0, 6.0])
    ch = _cash_channel(rng, ag[c])
    amt = _round_to(rng.lognormal(np.log(np.maximum(spending[c] * 0.3, 300)), 0.7), 100)
    amt = np.where(ch == _CH["atm"], np.minimum(amt, 20_000), amt)
    rows.add(c, _uniform_days(rng, a_lo[c], as_of), _TT["withdrawal"], amt, ch)

    for ttype, lam in (
        ("transfer_in", [3.0, 3.0, 2.0, 1.2, 0.6]),
        ("transfer_out", [4.0, 3.5, 2.4, 1.5, 0.7]),
    ):
        c = draw(lam)
        scale = np.maximum(income[c], cl["aum"][c] * 0.03)
        amt = np.round(np.clip(rng.lognormal(np.log(scale), 0.9), 10, None), 2)
        rows.add(c, _uniform_days(rng, a_lo[c], as_of), _TT[ttype], amt,
                 _elec_channel(rng, ag[c], mobile[c]), bank=_bank(rng, len(c), 0.6))  # fmt: skip

    # purchases of positions bought with new money during the window; some money arrives first
    # from another bank (the inflow an RM can see)
    kind = ctx.p_kind[pos.product]
    idx = np.flatnonzero(pos.fresh & (pos.start >= lo) & (pos.start <= as_of)
                         & (kind != KIND_CUR) & (kind != KIND_INS))  # fmt: skip
    c = pos.client[idx]
    rows.add(c, pos.start[idx], _TT["purchase"], pos.base[idx], _elec_channel(rng, ag[c], mobile[c]),
             product=pos.product[idx])  # fmt: skip
    inflow = pos.outside[idx] & (pos.base[idx] >= 30_000) & (rng.random(len(idx)) < 0.45)
    ii = idx[inflow]
    day = np.maximum(pos.start[ii] - rng.integers(0, 7, len(ii)), a_lo[pos.client[ii]])
    amt = _round_to(pos.base[ii] * rng.uniform(1.0, 1.15, len(ii)), 100)
    rows.add(pos.client[ii], day, _TT["transfer_in"], amt, _elec_channel(rng, ag[pos.client[ii]], mobile[pos.client[ii]]),
             bank=_pick(rng, _BANK_P, len(ii)))  # fmt: skip

    # positions redeemed (or matured without roll-over) in the window; when the money left the
    # bank, mostly a transfer to another bank follows
    ended = (pos.end_kind == END_SWITCHED) | (pos.end_kind == END_LEFT)
    idx = np.flatnonzero(ended & (pos.end >= lo) & (pos.end <= as_of))
    c = pos.client[idx]
    value = np.round(_value_at(ctx, pos, idx, pos.end[idx]), 2)
    matured = pos.maturity[idx] >= 0
    ch = np.where(matured, _CH["system"], _elec_channel(rng, ag[c], mobile[c]))
    rows.add(c[matured], pos.end[idx][matured], _TT["redemption"], value[matured], _CH["system"],
             product=pos.product[idx][matured], init=False)  # fmt: skip
    rows.add(c[~matured], pos.end[idx][~matured], _TT["redemption"], value[~matured], ch[~matured],
             product=pos.product[idx][~matured])  # fmt: skip
    out = (pos.end_kind[idx] == END_LEFT) & (rng.random(len(idx)) < 0.7)
    day = np.minimum(pos.end[idx][out] + rng.integers(0, 5, out.sum()), as_of)
    rows.add(c[out], day, _TT["transfer_out"], np.round(value[out] * rng.uniform(0.9, 1.0, out.sum()), 2),
             _elec_channel(rng, ag[c[out]], mobile[c[out]]), bank=_pick(rng, _BANK_P, int(out.sum())))  # fmt: skip

    # insurance: first premium at sale (mostly at the counter), renewals auto-debited
    ip = ins["pos"]
    c = pos.client[ip]
    sale = (pos.start[ip] >= lo) & (pos.start[ip] <= as_of)
    ch = np.where(rng.random(len(ip)) < 0.8, _CH["counter"], _elec_channel(rng, ag[c], mobile[c]))
    rows.add(c[sale], pos.start[ip][sale], _TT["purchase"], ins["premium"][sale], ch[sale],
             product=pos.product[ip][sale])  # fmt: skip
    k_ann = np.ceil((lo - pos.start[ip]) / _YEAR).astype(np.int64)
    k_ann = np.maximum(k_ann, 1)
    ann = pos.start[ip] + np.round(k_ann * _YEAR).astype(np.int64)
    due = (ann >= lo) & (ann <= as_of) & (k_ann < ins["years"])
    rows.add(c[due], ann[due], _TT["purchase"], ins["premium"][due], _CH["system"],
             product=pos.product[ip][due], init=False)  # fmt: skip

    r = rows.arrays()
    # chronological ids: by day, then client, then type (a stable sort keeps the rest in order)
    key = (r["day"] * (n + 1) + r["client"]) * len(TXN_TYPES) + r["type"]
    order = np.argsort(key, kind="stable")
    k = len(order)
    r = {key: v[order] for key, v in r.items()}
    table = pa.table(
        {
            "txn_id": pa.array(np.arange(1, k + 1, dtype=np.int64)),
            "client_id": pc.take(client_ids, pa.array(r["client"])),
            "txn_date": _dates(r["day"]),
            "txn_type": _take(TXN_TYPES, r["type"]),
            "amount": _money(np.maximum(r["amount"], 0.01)),
            "channel": _take(CHANNELS, r["channel"]),
            "product_id": _take(ctx.product_ids, r["product"]),
            "counterparty_bank": _take(OTHER_BANKS, r["bank"]),
            "client_initiated": pa.array(r["init"]),
        }
    )
    return table


def _digital(ctx: _Ctx, rng: np.random.Generator, cl: dict, client_ids: pa.Array) -> pa.Table:
    n = len(cl["age"])
    j0 = np.searchsorted(ctx.me, cl["open_date"], side="left")
    c, k = _expand(ctx.months - j0)
    j = j0[c] + k
    # 8% activated mobile banking but do not use it; a dormant account never logs in
    habit = rng.gamma(2.0, 0.5, n) * (rng.random(n) >= 0.08) * ~cl["dormant"]
    lam = np.where(cl["mobile"], _LOGINS_BY_AGE[cl["ag"]] * habit, 0.0)[c]
    lam = lam * np.where(j0[c] == j, 0.5, 1.0)  # the opening month is partial
    logins = rng.poisson(lam)
    return pa.table(
        {
            "month_end": _dates(ctx.me[j]),
            "client_id": pc.take(client_ids, pa.array(c)),
            "mobile_logins": pa.array(logins.astype(np.int32)),
        }
    )


def _contacts(
    ctx: _Ctx,
    rng: np.random.Generator,
    cl: dict,
    birth: np.ndarray,
    rm_idx: np.ndarray,
    rm_ids: pa.Array,
    pos: _Pos,
    client_ids: pa.Array,
) -> pa.Table:
    as_of, lo = ctx.as_of, ctx.txn_lo
    a_lo = np.maximum(lo, cl["open_date"])
    tier = np.minimum(cl["tier"], 5)
    has_rm = rm_idx >= 0
    frac = (as_of - a_lo + 1) / (as_of - lo + 1)
    grp = np.where(tier >= 3, 2, np.where(tier == 2, 1, 0))
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("client", "day", "channel", "topic")}

    def add(c, day, channel, topic):
        cols["client"].append(c)
        cols["day"].append(day)
        cols["channel"].append(channel)
        cols["topic"].append(topic)

    # routine contacts, more often for higher tiers
    c, _ = _expand(rng.poisson(_CONTACTS_PER_YEAR[tier] * frac * has_rm))
    ch = _pick_rows(rng, _CONTACT_CH[grp[c]])
    topic = np.array([1, 3, 4, 5])[_pick(rng, [30, 35, 30, 5], len(c))]
    topic = np.where(ch == 4, 5, topic)
    add(c, _uniform_days(rng, a_lo[c], as_of), ch, topic)

    # birthday greetings for gold and above
    by, bm, bd = _ymd(birth)
    ay = _ymd(np.array([as_of]))[0][0]
    bday = _from_ymd(np.full(len(birth), ay), bm, bd)
    bday = np.where(bday > as_of, _from_ymd(np.full(len(birth), ay - 1), bm, bd), bday)
    c = np.flatnonzero(has_rm & (tier >= 2) & (bday >= a_lo) & (rng.random(len(birth)) < 0.6))
    add(c, bday[c], np.array([1, 2, 3])[_pick(rng, [3, 6, 1], len(c))], np.full(len(c), 2))

    # calls a few days before a product matures
    m = (pos.maturity >= lo + 10) & (pos.maturity <= as_of)
    cand = np.flatnonzero(m)
    cc = pos.client[cand]
    keep = has_rm[cc] & (tier[cc] >= 1) & (rng.random(len(cand)) < 0.5)
    cand, cc = cand[keep], cc[keep]
    day = np.maximum(pos.maturity[cand] - rng.integers(3, 11, len(cand)), a_lo[cc])
    add(cc, day, np.array([0, 1, 2])[_pick(rng, [1, 6, 3], len(cc))], np.zeros(len(cc), np.int64))

    r = {k: np.concatenate(v).astype(np.int64) for k, v in cols.items()}
    outcome = _pick_rows(rng, _CONTACT_OUT[r["channel"]])
    order = np.lexsort((r["topic"], r["day"], r["client"]))
    r = {k: v[order] for k, v in r.items()}
    outcome = outcome[order]
    return pa.table(
        {
            "client_id": pc.take(client_ids, pa.array(r["client"])),
            "rm_id": _take(rm_ids, rm_idx[r["client"]]),
            "contact_date": _dates(r["day"]),
            "channel": _take(CONTACT_CHANNELS, r["channel"]),
            "topic": _take(CONTACT_TOPICS, r["topic"]),
            "outcome": _take(CONTACT_OUTCOMES, outcome),
        }
    )


# ----------------------------------------------------------------------------------------------
# Corporate clients
# ----------------------------------------------------------------------------------------------


@dataclass
class _Corp:
    tables: dict[str, pa.Table]
    ids: pa.Array
    payroll_weight: np.ndarray
    pay_day: np.ndarray


# Default model (borrowers only: a company without a loan has nothing to default on): logit =
# _DEFAULT_B0 + features (see _gen_corporates), about 2.5% of borrowers a year, within the 2-3%
# of Chinese banks' small-business loan books (bench/demo_realism.py).
_DEFAULT_B0 = -5.0
# Settlement churn: this share of companies stops settling with the bank on a day drawn evenly in
# the 12-month window (moved its account, closed down); nothing is paid to or by it afterwards,
# and its average daily deposit is that of the days it was still here. With the companies that
# never settled in the window (no payment partners), this gives the lifetime-value models (BG/NBD)
# real dropout to learn from.
_CORP_CHURN = 0.2


def _corp_ids(nums: np.ndarray) -> pa.Array:
    return _join("E", pc.utf8_lpad(_str(np.asarray(nums) + 1), 6, "0"))


def _gen_corporates(ctx: _Ctx, rng: np.random.Generator, b: int, n: int, city: City) -> _Corp:
    first = int(ctx.corp_offsets[b])
    ids = _corp_ids(np.arange(first, first + n))
    if n == 0:
        return _Corp({}, ids, np.zeros(0), np.zeros(0, np.int64))
    as_of = ctx.as_of
    ind = _pick(rng, _IND_P, n)
    size = _pick(rng, _SIZE_P, n)
    emp_lo = np.array([2, 20, 100, 1000])[size]
    emp_hi = np.array([19, 99, 999, 6000])[size]
    employees = np.exp(rng.uniform(np.log(emp_lo), np.log(emp_hi + 1))).astype(np.int64)
    revenue = _round_to(employees * _IND_REV_PER_EMP[ind] * rng.lognormal(0, 0.5, n), 1000)
    capital = _round_to(np.maximum(revenue * rng.lognormal(np.log(0.25), 0.7, n), 100_000), 10_000)
    years = np.minimum(
        np.array([0.5, 1.0, 3.0, 5.0])[size]
        + rng.exponential(np.array([5.0, 8.0, 11.0, 14.0])[size]),
        40,
    )
    founded = as_of - (years * _YEAR).astype(np.int64)
    opened = founded + (rng.random(n) * 0.8 * (as_of - 30 - founded)).astype(np.int64)
    # about one in ten came to the bank during the window: a part-year of profit so far, a full
    # rate of settlement (the lifetime-value matrix's "low now, high later")
    new = rng.random(n) < 0.1
    opened = np.where(
        new,
        np.maximum(
            founded, ctx.txn_lo + (rng.random(n) * (as_of - 30 - ctx.txn_lo)).astype(np.int64)
        ),
        opened,
    )
    debt = np.clip(rng.beta(2.2, 2.6, n) * 1.25, 0.02, 1.5)
    overdue_tax = rng.random(n) < 0.03 + 0.10 * ((size == 0) & (debt > 0.7))
    guarantor = rng.random(n) < 0.35
    payroll_hc = np.where(
        rng.random(n) < 0.45, rng.binomial(employees, rng.uniform(0.5, 1.0, n)), 0
    )
    pay_day = _PAYDAYS[rng.integers(0, len(_PAYDAYS), n)]

    end = ctx.corp_end[first : first + n]
    # the share of the window the company banked here: averages and 12-month income are of that
    here = np.clip(
        (np.minimum(end, as_of) - np.maximum(opened, ctx.txn_lo) + 1) / (as_of - ctx.txn_lo + 1),
        0,
        1,
    )
    deposit = np.round(revenue * rng.lognormal(np.log(0.05), 0.8, n) * here, 2)
    has_loan = rng.random(n) < np.array([0.4, 0.6, 0.7, 0.75])[size]
    loan = np.where(has_loan, _round_to(revenue * debt * rng.uniform(0.1, 0.6, n), 10_000), 0.0)
    interest = np.round(loan * rng.uniform(0.032, 0.055, n), 2)
    fee = np.round((revenue * 0.0003 * rng.lognormal(0, 0.6, n) + payroll_hc * 12 * 1.5) * here, 2)
    size_eff = np.array([0.5, 0.2, -0.3, -0.7])[size]
    stress = (
        2.0 * (debt - 0.55) + 0.9 * overdue_tax + size_eff - 0.04 * years + rng.normal(0, 0.8, n)
    )
    late = has_loan & (rng.random(n) < 1 / (1 + np.exp(2.0 - 1.3 * stress)))
    overdue_days = np.where(
        late, np.minimum(np.ceil(rng.exponential(12 + 10 * np.maximum(stress, 0))), 180), 0
    )
    dl = np.log1p(np.minimum(deposit / np.maximum(loan, 1.0), 10.0))
    logit = (
        _DEFAULT_B0 + 4.0 * (debt - 0.55) + 1.5 * overdue_tax + 0.04 * np.minimum(overdue_days, 120)
        + size_eff - 0.06 * years - 0.4 * dl + 0.3 * ~guarantor
    )  # fmt: skip
    default = has_loan & (rng.random(n) < 1 / (1 + np.exp(-logit)))

    # names: city + brand + business + company form
    b1 = rng.integers(0, len(_BRAND_1), n)
    b2 = rng.integers(0, len(_BRAND_2), n)
    word_idx = (rng.random(n) * np.array([len(w) for w in _IND_WORDS])[ind]).astype(np.int64)
    flat_zh = pa.array([w for ws in _IND_WORDS for w, _ in ws])
    flat_en = pa.array([e for ws in _IND_WORDS for _, e in ws])
    starts = np.cumsum([0] + [len(w) for w in _IND_WORDS])[:-1]
    wi = starts[ind] + word_idx
    form_zh = np.where(size == 3, 1, 0)
    name_zh = _join(city.zh, _take([z for z, _ in _BRAND_1], b1), _take([z for z, _ in _BRAND_2], b2),
                    _take(flat_zh, wi), _take(["有限公司", "股份有限公司"], form_zh))  # fmt: skip
    name_en = _join(city.en + " ", _take([e for _, e in _BRAND_1], b1), _take([e for _, e in _BRAND_2], b2),
                    " ", _take(flat_en, wi), " Co., Ltd.")  # fmt: skip

    corp_clients = pa.table(
        {
            "corp_id": ids,
            "branch_id": pa.array(np.full(n, f"B{b + 1:03d}")),
            "name_zh": name_zh,
            "name_en": name_en,
            "industry": _take(INDUSTRIES, ind),
            "size": _take(SIZES, size),
            "founded_on": _dates(founded),
            "registered_capital": _money(capital),
            "employees": pa.array(employees.astype(np.int32)),
            "payroll_headcount": pa.array(payroll_hc.astype(np.int32)),
            "annual_revenue": _money(revenue),
            "debt_ratio": pa.array(np.round(debt, 4)),
            "overdue_tax": pa.array(overdue_tax),
            "has_guarantor": pa.array(guarantor),
            "open_date": _dates(opened),
        }
    )
    corp_accounts = pa.table(
        {
            "corp_id": ids,
            "avg_daily_deposit": _money(deposit),
            "loan_balance": _money(loan),
            "loan_interest_12m": _money(interest),
            "fee_income_12m": _money(fee),
            "max_overdue_days": pa.array(overdue_days.astype(np.int32)),
            "default_flag": pa.array(default),
        }
    )

    # payment network: activity weights with a heavy tail (hubs), edges drawn by weight
    w = (rng.pareto(1.3, n) + 1) * np.array([0.5, 1.2, 3.0, 8.0])[size]
    total = int(ctx.corp_offsets[-1])
    m = 3 * n
    payer = rng.choice(n, m, p=w**0.9 / (w**0.9).sum())
    payee = rng.choice(n, m, p=w / w.sum())
    if n > 1:
        payee = np.where(payee == payer, (payer + 1 + rng.integers(0, n - 1, m)) % n, payee)
    payee_g = first + payee
    others = total - n
    cross = (rng.random(m) < (0.08 if n > 1 else 1.0)) & (others > 0)
    g = rng.integers(0, max(others, 1), m)
    payee_g = np.where(cross, np.where(g >= first, g + n, g), payee_g)
    valid = payee_g != first + payer
    payer, payee_g = payer[valid], payee_g[valid]
    # busier pairs pay each other more often (up to weekly)
    wn = w / w.mean()
    local = payee_g - first
    w_payee = np.where((local >= 0) & (local < n), wn[np.clip(local, 0, n - 1)], 1.0)
    freq = 1 + np.minimum(rng.poisson(1.5 + 4 * np.sqrt(wn[payer] * w_payee)), 47)
    e, _ = _expand(freq)
    k = len(e)
    lo = np.maximum(ctx.txn_lo, opened[payer[e]])  # not before the payer's account was opened
    day = lo + (rng.random(k) * (as_of - lo + 1)).astype(np.int64)
    amount = np.round(np.clip(rng.lognormal(np.log(revenue[payer[e]] / 150), 1.0), 100, None), 2)
    # a company that left settles nothing after its last day (either side of the payment)
    keep = day <= np.minimum(ctx.corp_end[first + payer[e]], ctx.corp_end[payee_g[e]])
    e, day, amount = e[keep], day[keep], amount[keep]
    k = len(e)
    order = np.lexsort((amount, payee_g[e], payer[e], day))
    corp_txn = pa.table(
        {
            "txn_id": pa.array(np.arange(1, k + 1, dtype=np.int64)),
            "payer_id": _corp_ids(first + payer[e][order]),
            "payee_id": _corp_ids(payee_g[e][order]),
            "txn_date": _dates(day[order]),
            "amount": _money(amount[order]),
        }
    )
    return _Corp(
        {
            "corp_clients": corp_clients,
            "corp_accounts": corp_accounts,
            "corp_transactions": corp_txn,
        },
        ids,
        payroll_hc.astype(float),
        pay_day,
    )


# ----------------------------------------------------------------------------------------------
# Building the snapshot
# ----------------------------------------------------------------------------------------------


def _split(total: int, parts: int) -> list[int]:
    base, rem = divmod(total, parts)
    return [base + (1 if i < rem else 0) for i in range(parts)]


def _one_value(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _insert(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        con.register("_demo_src", table)
        try:
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _demo_src")
        finally:
            con.unregister("_demo_src")


# AUM per client and month-end (aggregated first, then joined: much faster than the other way).
_AUM_SQL = """
INSERT INTO client_aum_monthly
SELECT h.month_end, h.client_id, c.branch_id, c.rm_id, h.aum, h.aum_month_end
FROM (
    SELECT month_end, client_id,
           SUM(COALESCE(avg_balance, balance)) AS aum,
           SUM(balance) AS aum_month_end
    FROM holdings_monthly
    GROUP BY month_end, client_id
) h
JOIN clients c USING (client_id)
"""


def build_snapshot(
    path: str | os.PathLike,
    clients: int,
    branches: int = 1,
    months: int = 13,
    seed: int | None = None,
    rms_per_branch: int | None = None,
    corporates: int | None = None,
    as_of: str | dt.date | None = None,
    memory_limit: str = "4GB",
    workers: int | None = None,
    verbose: bool = False,
) -> Path:
    """Write a complete demo warehouse snapshot to ``path`` and return it.

    ``clients`` and ``corporates`` are totals, spread evenly over ``branches`` (the first branches
    get the remainder). Unset arguments come from ``[demo]`` in settings.toml (``corporates``:
    ``corporates_per_branch`` x ``branches``). ``as_of`` must be a month-end; the snapshot holds
    ``months`` month-ends ending there and 12 months of transactions and contacts before it.

    The file is written to ``path + '.tmp'`` and moved into place at the end, so a failed build
    never leaves a half-written file at ``path``. ``workers`` generator subprocesses (default: one
    for builds of 200k clients and 4 branches or more, else none) run ahead of the writer; the
    contents do not depend on it.
    """
    demo = load_settings()["demo"]
    seed = int(demo["seed"] if seed is None else seed)
    rms_per_branch = int(demo["rms_per_branch"] if rms_per_branch is None else rms_per_branch)
    if corporates is None:
        corporates = int(demo["corporates_per_branch"]) * int(branches)
    as_of = as_of or demo["as_of"]
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    if (as_of + dt.timedelta(days=1)).day != 1:
        raise ValueError(f"as_of must be the last day of a month, got {as_of}")
    if branches < 1 or clients < branches:
        raise ValueError("need at least one branch and at least one client per branch")
    if not 1 <= months <= 60 or rms_per_branch < 1 or corporates < 0 or seed < 0:
        raise ValueError("months in 1..60, rms_per_branch >= 1, corporates and seed >= 0")
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit):
        raise ValueError(f"memory_limit like '4GB', got {memory_limit!r}")

    t0 = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    for f in (tmp, Path(str(tmp) + ".wal")):
        f.unlink(missing_ok=True)

    ctx_args = (
        seed,
        as_of,
        months,
        _split(clients, branches),
        _split(corporates, branches),
        rms_per_branch,
    )
    if workers is None:  # a generator process pays off only for big builds
        workers = 1 if branches >= 4 and clients >= 200_000 else 0

    def log(msg: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr)

    off = _Offsets()
    con = duckdb.connect(str(tmp))
    try:
        if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]?i?B", str(memory_limit), re.IGNORECASE):
            raise ValueError(f"memory_limit must look like '4GB', not {memory_limit!r}")
        con.execute(f"SET memory_limit = '{memory_limit}'")  # validated just above
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute(schema_part("WAREHOUSE"))
        _insert(con, {"branches": _branches_table(branches), "products": _products_table()})
        threads = _one_value(con, "SELECT current_setting('threads')")
        if workers > 0:  # leave a core to the generator process while writing
            con.execute("SET threads = 1")
        waited = written = 0.0
        mark = time.perf_counter()
        for b, tables in enumerate(_branch_tables(ctx_args, branches, workers)):
            now = time.perf_counter()
            waited += now - mark
            _insert(con, _number(tables, off))
            del tables
            mark = time.perf_counter()
            written += mark - now
            log(f"branch {b + 1}/{branches} written")
        log(f"{waited:.1f}s waiting for generated branches, {written:.1f}s writing them")
        con.execute(f"SET threads = {int(threads)}")
        log("deriving client_aum_monthly")
        con.execute(_AUM_SQL)
        meta = {
            "as_of": as_of.isoformat(),
            "source": "demo",
            "seed": str(seed),
            "clients": str(clients),
            "branches": str(branches),
            "months": str(months),
            "rms_per_branch": str(rms_per_branch),
            "corporates": str(corporates),
            "generator_version": GENERATOR_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        log("checkpoint")
        con.execute("CHECKPOINT")
        con.close()
    except BaseException:
        con.close()
        for f in (tmp, Path(str(tmp) + ".wal")):
            f.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    Path(str(tmp) + ".wal").unlink(missing_ok=True)
    log(f"done: {path}")
    return path


def _branch_tables(ctx_args: tuple, branches: int, workers: int):
    """Yield each branch's tables in branch order.

    With workers > 0, the branches are generated in that many child interpreters (worker i makes
    branches i, i + workers, ...) while the caller writes the previous ones. A reader thread per
    worker pulls finished branches off the pipe at once, so each worker runs about two branches
    ahead. The workers are plain ``python -c`` subprocesses speaking Arrow IPC over stdout, not
    multiprocessing, so building from any caller (a script without a main guard, Streamlit,
    pytest) is safe. The output is the same either way.
    """
    if workers <= 0:
        ctx = _make_ctx(*ctx_args)
        for b in range(branches):
            yield _gen_branch(ctx, b)
        return
    workers = min(workers, branches)
    seed, as_of, months, client_counts, corp_counts, rms = ctx_args
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    stop = threading.Event()

    def reader(proc: subprocess.Popen, q: queue.Queue, count: int) -> None:
        for _ in range(count):
            try:
                tables = _read_branch(proc.stdout)
            except Exception:  # a garbled stream counts as a dead worker
                tables = None
            while not stop.is_set():
                try:
                    q.put(tables, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if tables is None or stop.is_set():
                return

    procs: list[tuple[subprocess.Popen, object, queue.Queue, threading.Thread]] = []
    finished = False
    with contextlib.ExitStack() as stack:
        try:
            for i in range(workers):
                mine = list(range(i, branches, workers))
                job = json.dumps(dict(ctx_args=[seed, as_of.isoformat(), months, client_counts, corp_counts, rms],
                                      branches=mine))  # fmt: skip
                # stderr goes to a file, not a pipe: a chatty worker must never block on it
                err = stack.enter_context(tempfile.TemporaryFile())
                proc = subprocess.Popen(
                    [sys.executable, "-c", "from analytics.demo_data import _worker_main; _worker_main()", job],
                    stdout=subprocess.PIPE, stderr=err, env=env, cwd=root,
                )  # fmt: skip
                q: queue.Queue = queue.Queue(maxsize=1)
                thread = threading.Thread(target=reader, args=(proc, q, len(mine)), daemon=True)
                thread.start()
                procs.append((proc, err, q, thread))
            for b in range(branches):
                proc, err, q, _ = procs[b % workers]
                tables = q.get()
                if tables is None:
                    proc.wait()
                    err.seek(0)
                    detail = err.read().decode(errors="replace")
                    raise RuntimeError(f"demo generator worker failed on branch {b + 1}:\n{detail}")
                yield tables
            finished = True
        finally:
            stop.set()
            for proc, _, _, thread in procs:
                if not finished and proc.poll() is None:
                    proc.kill()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                thread.join(timeout=30)
                proc.stdout.close()


def _worker_main() -> None:
    """Entry point of a generator worker: write the requested branches to stdout as frames."""
    job = json.loads(sys.argv[1])
    seed, as_of, months, client_counts, corp_counts, rms = job["ctx_args"]
    ctx = _make_ctx(seed, dt.date.fromisoformat(as_of), months, client_counts, corp_counts, rms)
    out = sys.stdout.buffer
    for b in job["branches"]:
        for name, table in _gen_branch(ctx, b).items():
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            _write_frame(out, name.encode(), sink.getvalue())
        _write_frame(out, b"", b"")  # end of branch
        out.flush()


def _write_frame(out, name: bytes, payload) -> None:
    out.write(struct.pack("<IQ", len(name), len(payload)))
    out.write(name)
    out.write(payload)


def _read_exact(f, n: int) -> bytes | None:
    data = f.read(n)
    return data if data is not None and len(data) == n else None


def _read_branch(f) -> dict[str, pa.Table] | None:
    """One branch's tables from a worker's stdout; None if the worker died."""
    tables: dict[str, pa.Table] = {}
    while True:
        head = _read_exact(f, 12)
        if head is None:
            return None
        name_len, size = struct.unpack("<IQ", head)
        if name_len == 0:
            return tables
        name = _read_exact(f, name_len)
        payload = _read_exact(f, size)
        if name is None or payload is None:
            return None
        tables[name.decode()] = pa.ipc.open_stream(pa.py_buffer(payload)).read_all()


def table_counts(path: str | os.PathLike) -> dict[str, int]:
    """Rows per warehouse table of a snapshot file."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in warehouse_table_names()
        }


def main(argv: list[str] | None = None) -> int:
    demo = load_settings()["demo"]
    ap = argparse.ArgumentParser(
        prog="python -m analytics.demo_data", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--clients", type=int, default=int(demo["clients"]))
    ap.add_argument("--branches", type=int, default=int(demo["branches"]))
    ap.add_argument("--months", type=int, default=int(demo["months"]))
    ap.add_argument("--seed", type=int, default=int(demo["seed"]))
    ap.add_argument("--rms-per-branch", type=int, default=int(demo["rms_per_branch"]))
    ap.add_argument("--corporates", type=int, default=None,
                    help="total corporate clients (default: demo.corporates_per_branch x branches)")  # fmt: skip
    ap.add_argument("--as-of", default=demo["as_of"], help="last month-end, YYYY-MM-DD")
    ap.add_argument("--out", required=True, help="DuckDB file to write")
    ap.add_argument("--verbose", action="store_true", help="report progress per branch")
    ap.add_argument("--workers", type=int, default=None, help="generator processes (default: auto)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    path = build_snapshot(
        a.out, a.clients, branches=a.branches, months=a.months, seed=a.seed,
        rms_per_branch=a.rms_per_branch, corporates=a.corporates, as_of=a.as_of, workers=a.workers,
        verbose=a.verbose,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    print(f"wrote {path} in {seconds:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
    for name, count in table_counts(path).items():
        print(f"  {name:<20} {count:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
