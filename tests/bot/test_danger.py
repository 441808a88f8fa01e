"""Signs of danger gate the model's emergency calls: present in plain-word emergencies, absent in faults."""

import pytest

from bot.text.danger import shows_danger
from bot.text.normalize import normalize


@pytest.mark.parametrize(
    "text",
    [
        "楼上的水顺着吊灯往下淌 地板都泡了",
        "隔壁门口一股怪怪的味道 敲门也没人应",
        "电梯停在两层中间 我儿子还在里面",
        "爷爷在卫生间摔了起不来",
        "配电箱那里啪啪响还冒白烟",
        "樓上啲水一直流落嚟 停唔到",
        "阳台玻璃裂开了 随时会掉下去",
    ],
)
def test_plain_word_emergencies_show_danger(text):
    assert shows_danger(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "阳台推拉门卡住了",
        "厨房灯不亮了",
        "3号楼电梯又坏了",
        "车库卷帘门卡住了 车开不出来",
        "马桶水箱不停地响",
        "物业费多少钱一平",
    ],
)
def test_ordinary_faults_and_questions_show_none(text):
    assert not shows_danger(normalize(text).text)


def test_a_long_message_is_checked_in_linear_time():
    assert not shows_danger("门卡住了" * 5000)
    assert shows_danger("门卡住了" * 5000 + "快来人")
