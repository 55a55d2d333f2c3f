"""Synthetic Chinese identities: aliases, names, national IDs, phone numbers, addresses.

Everything here is made up but well-formed, so the identity vault, its encryption and the
import validation are exercised by data that looks like the real thing: a national ID has
the GB 11643-1999 layout and a valid check digit, its birth date matches the client's birth
year and its sequence digit matches the client's sex. Phone numbers use the reserved-looking
pattern 1xx-0000-xxxx so no real subscriber is likely to be hit by a demo text message.
"""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "普段字杞"
)
GIVEN_MALE = "伟强军勇杰涛明斌波刚平辉林华建国兵文海东志云峰磊超鹏飞俊龙成"
GIVEN_FEMALE = "芳娟敏静丽艳燕玲霞红梅琴英兰萍秀丹婷慧洁"

# Yunnan county-level area codes (Yuxi and Kunming), the region of the field study.
AREA_CODES = (
    ("530402", "云南省玉溪市红塔区"),
    ("530403", "云南省玉溪市江川区"),
    ("530423", "云南省玉溪市通海县"),
    ("530424", "云南省玉溪市华宁县"),
    ("530425", "云南省玉溪市易门县"),
    ("530426", "云南省玉溪市峨山彝族自治县"),
    ("530102", "云南省昆明市五华区"),
    ("530103", "云南省昆明市盘龙区"),
    ("530111", "云南省昆明市官渡区"),
    ("530112", "云南省昆明市西山区"),
)
STREETS = (
    "人民路",
    "解放路",
    "建设路",
    "新华街",
    "文化路",
    "东风路",
    "和平路",
    "北门街",
    "南苑路",
    "兴隆巷",
    "凤凰路",
    "玉兴路",
)
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "158",
    "180",
    "186",
    "189",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def national_id_check_digit(first17: str) -> str:
    """The 18th character of a resident identity number (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def national_id_is_valid(value: str) -> bool:
    """True when the value has 17 digits and the right check character."""
    return (
        len(value) == 18
        and value[:17].isdigit()
        and national_id_check_digit(value[:17]) == value[17].upper()
    )


def alias(rng: random.Random, sex: str, birth_year: int) -> str:
    """A nickname as clients are called in the clinic: 老张, 小李, 阿强, 王哥, 陈姐."""
    surname = rng.choice(SURNAMES)
    if sex == "F":
        pattern = rng.choice(("小{s}", "阿{g}", "{s}姐", "{s}妹"))
        given = rng.choice(GIVEN_FEMALE)
    else:
        older = birth_year < 1978
        pattern = rng.choice(
            ("老{s}", "老{s}", "{s}哥", "阿{g}", "大{s}")
            if older
            else ("小{s}", "小{s}", "阿{g}", "{s}哥")
        )
        given = rng.choice(GIVEN_MALE)
    return pattern.format(s=surname, g=given)


def identity(rng: random.Random, sex: str, birth_year: int) -> tuple[str, str, str, str]:
    """(name, national_id, phone, address); phone and address are sometimes unknown ("")."""
    given_chars = GIVEN_FEMALE if sex == "F" else GIVEN_MALE
    given = "".join(rng.choice(given_chars) for _ in range(rng.choice((1, 2, 2))))
    name = rng.choice(SURNAMES) + given
    area, place = rng.choice(AREA_CODES)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    sequence = rng.randrange(0, 100) * 10 + rng.choice(
        (1, 3, 5, 7, 9) if sex == "M" else (0, 2, 4, 6, 8)
    )
    first17 = f"{area}{birth_year:04d}{month:02d}{day:02d}{sequence:03d}"
    national_id = first17 + national_id_check_digit(first17)
    phone = ""
    if rng.random() < 0.9:
        phone = f"+86{rng.choice(MOBILE_PREFIXES)}0000{rng.randrange(10000):04d}"
    address = ""
    if rng.random() < 0.8:
        address = (
            f"{place}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
            f"{rng.randint(1, 20)}栋{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
        )
    return name, national_id, phone, address
