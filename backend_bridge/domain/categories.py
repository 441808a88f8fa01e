"""Ticket categories (stable English codes, Chinese labels) for routing, filters and statistics."""

from __future__ import annotations

import re

# First match wins: specific categories before the broad ones (门禁 is 弱电, not 门窗).
REPAIR_CATEGORIES = [
    ("lift", r"电梯"),
    ("gas", r"燃气|煤气|天然气|灶"),
    ("low_voltage", r"门禁|对讲|监控|网络|宽带|信号|道闸|快递柜|充电桩"),
    ("public_facility", r"路灯|健身|座椅|绿化|喷淋|垃圾|井盖|栏杆"),
    ("plumbing", r"水|马桶|下水|地漏|堵|管道|龙头|暖气|花洒|淋浴|渗|潮|霉"),
    ("electrical", r"电|灯|插座|开关|跳闸|空调|线路"),
    ("doors_windows", r"门|窗|锁|玻璃|纱窗"),
    ("structure", r"墙|天花|吊顶|瓷砖|地砖|裂|脱落|屋顶|楼顶|外墙|台阶"),
]
COMPLAINT_CATEGORIES = [
    ("falling_objects", r"高空|抛物|扔东西|往下扔"),
    ("renovation", r"装修|电钻|砸墙|施工"),
    ("noise", r"吵|噪音|噪声|广场舞|音响|半夜|声音"),
    ("pets", r"狗|猫|宠物|犬"),
    ("parking", r"停车|车位|占道|消防通道|堵车|乱停"),
    ("hygiene", r"垃圾|卫生|脏|臭|保洁|清洁|蟑螂|老鼠"),
    ("security", r"陌生人|小偷|被盗|安全|门禁|监控|电动车"),
    ("staff_conduct", r"态度|骂|不理|保安|客服|管家|师傅|没人管|推诿|慢"),
    ("illegal_building", r"违建|违章|私搭|乱建|占用"),
    ("fees", r"费|收费|乱收"),
]


def categorize(kind: str, text: str) -> str:
    table = REPAIR_CATEGORIES if kind == "repair" else COMPLAINT_CATEGORIES
    return next((name for name, pattern in table if re.search(pattern, text)), "other")


LABELS = {
    "lift": "电梯",
    "gas": "燃气",
    "low_voltage": "弱电",
    "public_facility": "公共设施",
    "plumbing": "水暖",
    "electrical": "电气",
    "doors_windows": "门窗",
    "structure": "土建",
    "falling_objects": "高空抛物",
    "renovation": "装修",
    "noise": "噪音",
    "pets": "宠物",
    "parking": "停车",
    "hygiene": "卫生",
    "security": "安全",
    "staff_conduct": "服务态度",
    "illegal_building": "违建",
    "fees": "费用",
    "other": "其他",
}
CODES = frozenset(LABELS)
