"""The Taiwan Ministry of Health and Welfare public AED registry (衛福部公共場所AED急救資訊網) as CSV.

The rules (see docs/aed-import.md):
- No id column: an AED is identified by six fields (場所名稱, 場所地址, AED經緯度X, AED經緯度Y,
  AED放置地點, AED地點描述); rows equal in all six are one AED (the most recently created row's
  other fields win) and its source_id is a hash of the six. AED經緯度X is the longitude.
- AEDs on aircraft (場所類型 航空器) have no place: skipped and counted.
- Opening hours: three lines (星期一至星期五 / 星期六 / 星期日 "HH:MM 至 HH:MM") and a 備註 note, turned into
  OpenStreetMap opening_hours: see ``opening_hours``.
- The floor is read from the placement text: see ``floor``.
- Rows without usable coordinates, outside Taiwan, or with hours that cannot be read are rejected.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cli.registries.records import ImportRecord, RegistryFormatError, RegistryRead, clip, wgs84

SOURCE = "taiwan-mohw"
IDENTITY = ("場所名稱", "場所地址", "AED經緯度X", "AED經緯度Y", "AED放置地點", "AED地點描述")
COLUMNS = (*IDENTITY, "場所類型", "開放使用時間", "開放使用時間緊急連絡電話", "資料建立時間")
AIRCRAFT = "航空器"
# Taiwan's islands as (south, north, west, east): Taiwan with Penghu, Kinmen and Matsu; Pratas (東沙).
TAIWAN_AREAS = ((21.8, 26.5, 118.0, 122.2), (20.5, 21.0, 116.6, 117.0))


class UnreadableHours(ValueError):
    pass


def read(path: str | Path, crs: str | None = None) -> RegistryRead:
    """Every row of the registry file at ``path``: records, rejections with reasons, skips by reason."""
    result = RegistryRead()
    groups: dict[tuple[str, ...], tuple[int, dict[str, str]]] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryFormatError(f"not a taiwan-mohw registry file: no column {', '.join(missing)}")
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            result.rows += 1
            if (row["場所類型"] or "").strip() == AIRCRAFT:
                result.skip("aircraft")
                continue
            key = tuple(row[c] or "" for c in IDENTITY)
            if key in groups:
                result.skip("duplicate")
                first_line, kept = groups[key]
                if (row["資料建立時間"] or "") > (kept["資料建立時間"] or ""):
                    groups[key] = (first_line, row)  # the newer entry of the same AED
                continue
            groups[key] = (start, row)
    for key, (start, row) in groups.items():
        _convert(result, start, key, row, crs)
    return result


def source_id(identity: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(identity).encode("utf-8")).hexdigest()[:32]


def _convert(
    result: RegistryRead, line: int, identity: tuple[str, ...], row: dict[str, str], crs: str | None
) -> None:
    name = clip(row["場所名稱"], 200)
    if not name:
        result.reject(line, "name missing")
        return
    x, y = (row["AED經緯度X"] or "").strip(), (row["AED經緯度Y"] or "").strip()
    if not x or not y:
        result.reject(line, "coordinates missing")
        return
    try:
        lng, lat = float(x), float(y)
    except ValueError:
        result.reject(line, "coordinates not numbers")
        return
    if not in_taiwan(lat, lng):
        result.reject(line, "coordinates outside Taiwan", f"lat {lat}, lng {lng}")
        return
    try:
        hours = opening_hours(row["開放使用時間"] or "")
    except UnreadableHours as error:
        result.reject(line, "opening hours unreadable", str(error))
        return
    placement = _placement(row["AED放置地點"], row["AED地點描述"])
    lat, lng = wgs84(lat, lng, crs)
    result.records.append(
        ImportRecord(
            source_id=source_id(identity),
            lat=lat,
            lng=lng,
            name=name,
            opening_hours=hours,
            address=clip(row["場所地址"], 500),
            placement=placement,
            floor=floor(placement or ""),
            contact_phone=clip(row["開放使用時間緊急連絡電話"], 40),
            city=city(row["場所地址"] or ""),
            line=line,
        )
    )


def in_taiwan(lat: float, lng: float) -> bool:
    return any(s <= lat <= n and w <= lng <= e for s, n, w, e in TAIWAN_AREAS)


def _placement(place: str | None, detail: str | None) -> str | None:
    """Where the AED hangs, and the registry's longer description when it adds something."""
    place, detail = clip(place, 500), clip(detail, 500)
    if detail and (not place or detail not in place):
        place = detail if not place or place in detail else f"{place}；{detail}"
    return clip(place, 500)


# --- city ----------------------------------------------------------------------------------------

# Old or variant spellings of the cities and counties, as the addresses write them.
CITY_NAMES = {
    "台北市": "臺北市",
    "台中市": "臺中市",
    "台南市": "臺南市",
    "台東縣": "臺東縣",
    "桃園縣": "桃園市",
}
_CITY = re.compile(r"^\s*\d{0,6}\s*(?:臺灣省|台灣省)?\s*(\S{2}[市縣])")


def city(address: str) -> str | None:
    """The city or county an address starts with, in its official spelling (台北市 → 臺北市; 桃園縣,
    a county until 2014, → 桃園市)."""
    found = _CITY.match(unicodedata.normalize("NFKC", address))
    if not found:
        return None
    return CITY_NAMES.get(found.group(1), found.group(1))


# --- floor ---------------------------------------------------------------------------------------

_CN = "一二兩三四五六七八九十"
_FLOOR = re.compile(
    rf"地下\s*(?P<under>\d{{1,2}}|[{_CN}]{{1,3}})\s*(?:樓|F|層)?"
    # B1, B2F, B 3F: a basement, unless the B is part of a code (OB113, FAB2, 1B22, B1R, bus stop B17)
    r"|(?<![A-Z0-9])B\s*(?P<basement>\d)\s*(?:樓|F|層)?(?![0-9A-Z/])"
    # 1樓, 1F, 十二樓; not a room or gate number (F201)
    rf"|(?<![A-Z0-9])(?P<storey>\d{{1,3}}|[{_CN}]{{1,3}})\s*(?:樓|F|層)",
    re.IGNORECASE,
)


def floor(placement: str) -> str | None:
    """The first floor named in a placement text, as people say it: 一樓/1樓/1F → "1", 十二樓 → "12",
    B1/地下一樓/B1F → "B1"; None when it names none."""
    found = _FLOOR.search(unicodedata.normalize("NFKC", placement))
    if not found:
        return None
    if found.group("storey"):
        number = _number(found.group("storey"))
        return str(number) if number else None
    number = _number(found.group("under") or found.group("basement"))
    return f"B{number}" if number else None


def _number(text: str) -> int | None:
    """12, or a Chinese numeral up to 99: 一 1, 十 10, 十二 12, 二十 20, 二十一 21."""
    if text.isdigit():
        return int(text)
    digits = {c: i for i, c in enumerate("一二三四五六七八九", start=1)} | {"兩": 2}
    if "十" not in text:
        return digits.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if (tens and tens not in digits) or (ones and ones not in digits):
        return None
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


# --- opening hours -------------------------------------------------------------------------------

DAY_GROUPS = (("星期一至星期五", "Mo-Fr"), ("星期六", "Sa"), ("星期日", "Su"))
_DAY_LINE = re.compile(r"^(星期一至星期五|星期六|星期日)\s*(.*?)\s*至\s*(.*?)\s*$")
_TIME = re.compile(r"^(\d{1,2})(?::?(\d{2}))?$")
# A note saying the AED is there round the clock (24小時, 全日開放...), and one saying it is not open to the
# public at all, which wins (e.g. "以24小時開放為原則，因考量為軍事重地不另對外開放").
_ALWAYS_NOTE = re.compile(r"24\s*(?:小時|時|h)|全日開放|全天開放|全年無休|全天候|全時段?開放", re.IGNORECASE)
_NOT_OPEN_NOTE = re.compile(r"不(?:另)?(?:對外)?開放|不外借|(?:無|未|沒有)開放")

Interval = tuple[int, int]  # minutes from midnight: start, end (end 1440 is 24:00; end < start: overnight)


@dataclass(frozen=True)
class _Day:
    label: str
    interval: Interval | None  # None: closed
    unreadable: str | None = None


def opening_hours(text: str) -> str:
    """The registry's hours text as OpenStreetMap opening_hours.

    Each day group (Mon-Fri, Sat, Sun) is "start 至 end": empty times, or start equal to end ("00:00 至
    00:00"), mean closed that day; a lone 00:00 with the other time empty is the form's blank (closed); an
    end of 00:00 or 23:59 is midnight (24:00); an end before the start runs past midnight. 00:00-24:00 on
    every day is "24/7". A row with no open day whose 備註 note says it is always there (24小時, 全日開放,
    全天開放, 全年無休...) is "24/7" too; one without such a note is "off" (closed every day). A day with only
    one of its two times (other than the blank 00:00), or times that are not times, is unreadable.
    """
    text = unicodedata.normalize("NFKC", text)
    head, _, note = text.partition("備註")
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    days = [_day(line) for line in lines]
    if [d.label for d in days] != [label for _, label in DAY_GROUPS]:
        raise UnreadableHours("expected three lines: 星期一至星期五, 星期六, 星期日")
    if (
        all(d.interval is None for d in days)
        and _ALWAYS_NOTE.search(note)
        and not _NOT_OPEN_NOTE.search(note)
    ):
        return "24/7"
    for day in days:
        if day.unreadable:
            raise UnreadableHours(f"{day.label}: {day.unreadable}")
    if all(d.interval == (0, 1440) for d in days):
        return "24/7"
    rules: list[tuple[str, Interval]] = []
    for day in days:
        if day.interval is None:
            continue
        if rules and rules[-1][1] == day.interval and _follows(rules[-1][0], day.label):
            rules[-1] = (rules[-1][0].split("-")[0] + "-" + day.label, day.interval)
        else:
            rules.append((day.label, day.interval))
    if not rules:
        return "off"
    return "; ".join(f"{days_label} {_clock(start)}-{_clock(end)}" for days_label, (start, end) in rules)


_NEXT_GROUP = {"Fr": "Sa", "Sa": "Su"}


def _follows(previous: str, label: str) -> bool:
    """Day groups in a row: Mo-Fr then Sa, Sa then Su, Mo-Sa then Su."""
    return _NEXT_GROUP.get(previous.split("-")[-1]) == label


def _day(line: str) -> _Day:
    found = _DAY_LINE.match(line)
    if not found:
        return _Day("?", None, "not a day line")
    label = dict(DAY_GROUPS)[found.group(1)]
    start_text, end_text = found.group(2), found.group(3)
    try:
        start, end = _minutes(start_text), _minutes(end_text)
    except UnreadableHours as error:
        return _Day(label, None, str(error))
    if start is None and end is None:
        return _Day(label, None)
    if start is None or end is None:
        if (start if start is not None else end) == 0:
            return _Day(label, None)  # "00:00 至" or "至 00:00": the form's blank
        return _Day(label, None, "a start without an end" if end is None else "an end without a start")
    if start == end:
        return _Day(label, None)
    if start == 1440:
        return _Day(label, None, "starts at 24:00")
    if end in (0, 23 * 60 + 59):
        end = 1440
    return _Day(label, (start, end))


def _minutes(text: str) -> int | None:
    if not text:
        return None
    found = _TIME.match(text)
    if not found:
        raise UnreadableHours("not a time of day")
    hours, minutes = int(found.group(1)), int(found.group(2) or 0)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise UnreadableHours("not a time of day")
    return hours * 60 + minutes


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
