"""Ticket categories for routing and the monthly statistics (by category, building, month)."""

from __future__ import annotations

import re

# First match wins: specific categories before the broad ones (门禁 is 弱电, not 门窗).
REPAIR_CATEGORIES = [
    ("电梯", r"电梯"),
    ("燃气", r"燃气|煤气|天然气|灶"),
    ("弱电", r"门禁|对讲|监控|网络|宽带|信号|道闸|快递柜|充电桩"),
    ("公共设施", r"路灯|健身|座椅|绿化|喷淋|垃圾|井盖|栏杆"),
    ("水暖", r"水|马桶|下水|地漏|堵|管道|龙头|暖气|花洒|淋浴|渗|潮|霉"),
    ("电气", r"电|灯|插座|开关|跳闸|空调|线路"),
    ("门窗", r"门|窗|锁|玻璃|纱窗"),
    ("土建", r"墙|天花|吊顶|瓷砖|地砖|裂|脱落|屋顶|楼顶|外墙|台阶"),
]
COMPLAINT_CATEGORIES = [
    ("高空抛物", r"高空|抛物|扔东西|往下扔"),
    ("装修", r"装修|电钻|砸墙|施工"),
    ("噪音", r"吵|噪音|噪声|广场舞|音响|半夜|声音"),
    ("宠物", r"狗|猫|宠物|犬"),
    ("停车", r"停车|车位|占道|消防通道|堵车|乱停"),
    ("卫生", r"垃圾|卫生|脏|臭|保洁|清洁|蟑螂|老鼠"),
    ("安全", r"陌生人|小偷|被盗|安全|门禁|监控|电动车"),
    ("服务态度", r"态度|骂|不理|保安|客服|管家|师傅|没人管|推诿|慢"),
    ("违建", r"违建|违章|私搭|乱建|占用"),
    ("费用", r"费|收费|乱收"),
]


def categorize(kind: str, text: str) -> str:
    table = REPAIR_CATEGORIES if kind == "repair" else COMPLAINT_CATEGORIES
    return next((name for name, pattern in table if re.search(pattern, text)), "其他")
