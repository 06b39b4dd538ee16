"""Chinese personal names after a context word ("客户王伟来电"): surname + 1-2 given characters.

Presidio ships no Chinese NER and no Chinese model can be installed and verified from the package
registry, so names are found by pattern: a context word from the policy (姓名, 客户, 联系人, ...),
optional separators, one of the common surnames below (single or compound), then one or two
CJK characters. Two guards keep precision: a candidate whose first two characters form a common
jieba dictionary word (方面, 高兴, 来电) is not a name, and a second given character is dropped
when it starts a common word with what follows (王伟|来电) or is a function character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# The ~300 most frequent single-character surnames (order does not matter) and compound ones.
SINGLE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟"
    "邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储"
    "原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平"
    "计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战"
    "慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由萧赖洪"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "上官",
    "司马",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "端木",
    "西门",
    "南宫",
    "独孤",
    "呼延",
    "申屠",
    "万俟",
)
HONORIFICS = ("先生", "女士", "小姐", "老师", "经理", "总监", "师傅", "阿姨", "大爷", "同学", "总")
# Characters that almost never end a given name but often follow one in a note.
NOT_GIVEN_NAME = frozenset(
    "的了在是于和与及跟对把被给让从到向说称表反来去要已也都还又再请需想将曾刚今昨等"
)
COMMON_WORD_FREQ = 800  # jieba dictionary frequency from which a character pair is a word

_CJK = "\u4e00-\u9fff"


def build_trigger(context_words: Iterable[str]) -> re.Pattern[str]:
    """Regex matching a context word, separators, and the surname that follows it."""
    words = sorted({w for w in context_words if w}, key=len, reverse=True)
    if not words:
        raise ValueError("the Chinese PERSON recogniser needs at least one context word")
    surnames = "|".join([*COMPOUND_SURNAMES, f"[{SINGLE_SURNAMES}]"])
    ctx = "|".join(map(re.escape, words))
    return re.compile(rf"(?:{ctx})(?:[\s:：是为叫]|姓名)*(?P<surname>{surnames})(?=[{_CJK}])")


def name_span(
    text: str, start: int, surname: str, word_freq: Callable[[str], int]
) -> tuple[int, int] | None:
    """Span of the full name beginning with ``surname`` at ``start``, or None if not a name."""
    after = start + len(surname)
    if text.startswith(HONORIFICS, after):
        return None
    given = ""
    for ch in text[after : after + 2]:
        if not re.match(rf"[{_CJK}]", ch):
            break
        given += ch
    if not given:
        return None
    if len(surname) == 1 and word_freq(surname + given[0]) >= COMMON_WORD_FREQ:
        return None
    if len(given) == 2:
        follow = text[after + 2 : after + 3]
        if given[1] in NOT_GIVEN_NAME or (
            follow and word_freq(given[1] + follow) >= COMMON_WORD_FREQ
        ):
            given = given[:1]
    return start, after + len(given)


def jieba_frequency(word: str) -> int:
    """Frequency of a word in jieba's dictionary (0 when absent)."""
    import jieba

    return int(jieba.get_FREQ(word) or 0)
