"""A realistic demo: two districts of Wuhan, four streets, urban and rural communities, organisations.

Staff hold their roles at nodes of the tree: the deployment's admin, finance officers and
auditor see everything; the street hubs' finance officers, a district's admin and a district's
civil-affairs supervisor see their own subtree only (the printed logins say which).

Everything is created through the services, exactly as an admin would, so the demo exercises
the same rules (and, later, leaves the same audit trail) as real use. Running it twice changes
nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ledger.credit_code import check_character
from ledger.extensions import db
from ledger.models.organisation import FilingCategory, OrganisationStatus, RegistrationType
from ledger.models.user import Role, User
from ledger.services import communities, organisations, tree, users
from ledger.services.access import Actor

DEMO_PASSWORD = "ledger-demo-2026"  # noqa: S105 (published demo password)

# The demo's communities: leaves of the illustrative division list that ``ledger init`` loads
# (ledger/reference/regions/wuhan.csv; codes below the districts are illustrative). Name and
# kind come from the division: 1xx classes are urban (target 10), 2xx rural (target 5).
COMMUNITIES = [
    "420102012001",  # 江岸区 后湖街道 百步亭花园社区 (urban)
    "420102012002",  # 江岸区 后湖街道 丹水池社区 (urban)
    "420102001003",  # 江岸区 大智街道 二七社区 (urban)
    "420116001001",  # 黄陂区 前川街道 城关社区 (urban)
    "420116200201",  # 黄陂区 木兰乡 双泉村 (rural)
    "420116200202",  # 黄陂区 木兰乡 杜堂村 (rural)
]

# (community code, name, registration type)
ORGANISATIONS = [
    (
        "420102012001",
        "百步亭社区为老服务中心 Baibuting Elderly Care Centre",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
    (
        "420102012001",
        "百步亭邻里互助协会 Baibuting Neighbourhood Mutual Aid Association",
        RegistrationType.SOCIAL_GROUP,
    ),
    (
        "420102012001",
        "百步亭青少年成长服务社 Baibuting Youth Development Service",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
    (
        "420102012002",
        "丹水池残障人士康复服务中心 Danshuichi Disability Rehabilitation Centre",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
    (
        "420102012002",
        "丹水池社区文体协会 Danshuichi Culture and Sports Association",
        RegistrationType.SOCIAL_GROUP,
    ),
    ("420102001003", "二七社区志愿者协会 Erqi Volunteers Association", RegistrationType.SOCIAL_GROUP),
    ("420102001003", "江岸区社区公益基金会 Jiang'an Community Foundation", RegistrationType.FOUNDATION),
    (
        "420116001001",
        "城关社区四点半课堂服务中心 Chengguan After-School Centre",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
    ("420116001001", "城关社区调解协会 Chengguan Mediation Association", RegistrationType.SOCIAL_GROUP),
    (
        "420116200201",
        "双泉村留守儿童关爱服务社 Shuangquan Left-behind Children Care",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
    ("420116200201", "双泉村老年协会 Shuangquan Elders Association", RegistrationType.SOCIAL_GROUP),
    (
        "420116200202",
        "杜堂村农村互助养老服务社 Dutang Rural Mutual-aid Elderly Care",
        RegistrationType.SOCIAL_SERVICE_ORGANISATION,
    ),
]

# (username, display name, role, the node the role is held at: None is the whole deployment)
# Filed (备案) organisations of 双泉村, filed with 木兰乡: (name, category, filed on, who holds
# their money). They have no credit code and, like most, no bank account: the township's hub
# holds the money of one of them (代管). With them 双泉村 reaches its rural target of five.
FILED_ORGANISATIONS = [
    ("双泉村广场舞队 Shuangquan Square Dance Team", FilingCategory.CULTURE_SPORTS, date(2025, 4, 10), None),
    (
        "双泉村邻里调解小组 Shuangquan Neighbour Mediation Group",
        FilingCategory.MEDIATION,
        date(2025, 6, 18),
        None,
    ),
    (
        "双泉村助老志愿服务队 Shuangquan Elder-care Volunteers",
        FilingCategory.LIFE_SERVICES,
        date(2025, 9, 5),
        "木兰乡社区社会组织服务中心 Mulan township hub",
    ),
]
FILED_COMMUNITY, FILING_OFFICE = "420116200201", "420116200000"  # 双泉村, 木兰乡

STAFF = [
    ("admin", "系统管理员 Administrator", Role.ADMIN, None),
    ("finance1", "财务专员甲 Finance Officer One", Role.FINANCE_OFFICER, None),
    ("finance2", "财务专员乙 Finance Officer Two", Role.FINANCE_OFFICER, None),
    ("auditor", "审计员 Auditor", Role.AUDITOR, None),
    # The street hubs' own finance officers: each reaches only the organisations of its street.
    ("houhu.finance1", "后湖街道枢纽 财务甲 Houhu hub finance one", Role.FINANCE_OFFICER, "420102012000"),
    ("houhu.finance2", "后湖街道枢纽 财务乙 Houhu hub finance two", Role.FINANCE_OFFICER, "420102012000"),
    ("qianchuan.finance", "前川街道枢纽 财务 Qianchuan hub finance", Role.FINANCE_OFFICER, "420116001000"),
    # Civil-affairs staff of 江岸区 read what their district does and change nothing.
    ("jiangan.supervisor", "江岸区民政局 督导 Jiang'an civil affairs", Role.SUPERVISOR, "420102000000"),
    ("huangpi.admin", "黄陂区 管理员 Huangpi administrator", Role.ADMIN, "420116000000"),
]

_ENTITY_TYPE = {
    RegistrationType.SOCIAL_GROUP: "1",
    RegistrationType.SOCIAL_SERVICE_ORGANISATION: "2",
    RegistrationType.FOUNDATION: "3",
    RegistrationType.OTHER: "9",
}


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    districts: int
    streets: int
    communities: int
    organisations: int
    filed: int
    logins: list[tuple[str, str, str]]


def demo_credit_code(division: str, registration_type: RegistrationType, serial: int) -> str:
    """A well-formed civil-affairs code (authority 5) with valid GB 11714 and GB 32100 checks."""
    body = f"MJ{serial:06d}"
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    # GB 11714 organisation-code check character (position 17).
    total = sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    org_check = "X" if check == 10 else "0" if check == 11 else str(check)
    first17 = f"5{_ENTITY_TYPE[registration_type]}{division}{body}{org_check}"
    return first17 + check_character(first17)


def _scope_label(node: str | None, name: str) -> str:
    return "全部 the whole deployment" if node is None else f"{name} {node}"


def _member_username(index: int) -> str:
    return f"member{index:02d}"


def create_demo(*, with_funds: bool = True) -> DemoSummary:
    """Create the demo once; ``with_funds=False`` stops at people and places (tests build their own funds)."""
    operator = Actor.operator()
    already = db.session.scalar(select(User.id).where(User.username == "admin")) is not None
    organisation_names: list[str] = []
    if not already:
        by_code = {}
        for code in COMMUNITIES:
            by_code[code] = communities.create_community(
                operator, communities.CommunityFields(code=code), f"demo-community-{code}"
            ).thing
        divisions = {code: code[:6] for code in COMMUNITIES}
        created = []
        for serial, (community_code, name, registration_type) in enumerate(ORGANISATIONS, start=1):
            created.append(
                organisations.create_organisation(
                    operator,
                    organisations.OrganisationFields(
                        name=name,
                        credit_code=demo_credit_code(
                            divisions[community_code], registration_type, 233400 + serial
                        ),
                        registration_type=registration_type,
                        community_id=by_code[community_code].id,
                        # Registered over 2023-2024, so coverage on a date shows progress.
                        registered_on=date(2023, 1, 16) + timedelta(days=61 * serial),
                    ),
                    f"demo-organisation-{serial}",
                ).thing
            )
        for number, (name, category, filed_on, held_by) in enumerate(FILED_ORGANISATIONS, start=1):
            organisations.create_organisation(
                operator,
                organisations.OrganisationFields(
                    name=name,
                    community_id=by_code[FILED_COMMUNITY].id,
                    status=OrganisationStatus.FILED,
                    filing_number=f"木兰备字〔{filed_on.year}〕第{number:03d}号",
                    filing_office_code=FILING_OFFICE,
                    filed_on=filed_on,
                    filing_category=category,
                    money_held_by=held_by,
                ),
                f"demo-filed-organisation-{number}",
            )
        for username, display_name, role, node in STAFF:
            users.create_user(
                operator,
                users.NewUser(username, display_name, role, DEMO_PASSWORD, scopes=(node,)),
                f"demo-user-{username}",
            )
        member_organisations: dict[str, uuid.UUID] = {}
        for index, organisation in enumerate(created, start=1):
            member_organisations[_member_username(index)] = organisation.id
            users.create_user(
                operator,
                users.NewUser(
                    _member_username(index),
                    f"{organisation.name.split(' ')[0]} 记账员 Bookkeeper",
                    Role.ORG_MEMBER,
                    DEMO_PASSWORD,
                    (organisation.id,),
                ),
                f"demo-user-{_member_username(index)}",
            )
        if with_funds:
            from ledger.demo_funds import create_demo_funds

            create_demo_funds(member_organisations)
    organisation_names = [name for _c, name, _t in ORGANISATIONS]
    names = tree.node_names(node for *_, node in STAFF)
    logins = [(u, r.value, _scope_label(node, names[node])) for u, _n, r, node in STAFF] + [
        (_member_username(i), Role.ORG_MEMBER.value, name)
        for i, name in enumerate(organisation_names, start=1)
    ]
    return DemoSummary(
        created=not already,
        districts=len({code[:6] for code in COMMUNITIES}),
        streets=len({code[:9] for code in COMMUNITIES}),
        communities=len(COMMUNITIES),
        organisations=len(ORGANISATIONS) + len(FILED_ORGANISATIONS),
        filed=len(FILED_ORGANISATIONS),
        logins=logins,
    )
