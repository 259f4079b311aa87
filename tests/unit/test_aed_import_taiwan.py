"""The Taiwan MOHW AED registry (tests/data/taiwan_aed_registry_2018.csv) read by the import command's
parser: counts over the whole real file, and named rows whose hours and floors are checked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.registries import taiwan_mohw
from cli.registries.records import ImportRecord
from shared.logic.hours import validate_opening_hours

FILE = Path(__file__).resolve().parents[1] / "data" / "taiwan_aed_registry_2018.csv"


@pytest.fixture(scope="module")
def registry():
    return taiwan_mohw.read(FILE)


def one(registry, name: str, placement_starts: str = "") -> ImportRecord:
    found = [
        r for r in registry.records if r.name == name and (r.placement or "").startswith(placement_starts)
    ]
    assert len(found) == 1, [r.placement for r in registry.records if r.name == name]
    return found[0]


def test_every_row_is_accounted_for(registry):
    assert registry.rows == 8693
    assert registry.skipped == {"aircraft": 163, "duplicate": 7}
    assert len(registry.records) == 8514
    assert len(registry.rejected) == 9
    assert len(registry.records) + len(registry.rejected) + sum(registry.skipped.values()) == registry.rows


def test_rejections_carry_reasons_and_lines(registry):
    assert registry.rejected_by_reason() == {"opening hours unreadable": 8, "coordinates outside Taiwan": 1}
    by_line = {r.line: r for r in registry.rejected}
    # 台中市和平區...育英巷6號: AED經緯度Y is 90.0, a pole, not Taiwan
    assert by_line[24501].reason == "coordinates outside Taiwan"
    # 臺北市大同區日新國民小學: "星期一至星期五  至 07:20", an end without a start
    assert by_line[34703].reason == "opening hours unreadable"
    assert by_line[34703].detail == "Mo-Fr: an end without a start"


def test_aircraft_never_become_aeds(registry):
    assert not [r for r in registry.records if r.name in ("中華航空股份有限公司", "長榮航空股份有限公司")]


def test_source_ids_are_unique_and_stable(registry):
    ids = [r.source_id for r in registry.records]
    assert len(set(ids)) == len(ids)
    assert [r.source_id for r in taiwan_mohw.read(FILE).records] == ids


def test_every_converted_hours_text_is_valid_osm(registry):
    for hours in {r.opening_hours for r in registry.records}:
        assert validate_opening_hours(hours) == hours


def test_x_is_longitude_and_the_islands_count_as_taiwan(registry):
    taipei_station = one(registry, "交通部臺灣鐵路管理局臺北運務段臺北站", "B1F東側")
    assert 25.0 < taipei_station.lat < 25.1 and 121.5 < taipei_station.lng < 121.6
    pratas = one(registry, "海洋國家公園管理處(東沙管理站)")
    assert pratas.lat == pytest.approx(20.7, abs=0.1) and pratas.floor == "1"


@pytest.mark.parametrize(
    ("name", "placement", "hours"),
    [
        # 星期一至星期五 07:30 至 16:30, weekend empty: a school open on weekdays
        ("臺北市北投區逸仙國民小學", "學校行政大樓", "Mo-Fr 07:30-16:30"),
        # every day empty, 備註 24小時開放
        ("享樂文旅飯店股份有限公司康定分公司", "", "24/7"),
        # every day "00:00 至 00:00", 備註 24小時開放
        ("世新大學", "後校門警衛室", "24/7"),
        # "至 00:00" on every day (the form's blank), 備註 24小時開放
        ("長榮桂冠酒店(台中)", "", "24/7"),
        # 00:00 至 23:59 on every day
        ("彩色人生興業股份有限公司(三二行館)", "二樓", "24/7"),
        # 00:00 至 23:59 on weekdays, 00:00 至 24:00 at the weekend
        ("國立桃園高級中學", "", "24/7"),
        # 06:00 至 00:00: until midnight
        ("臺北捷運松山機場站BR13", "", "Mo-Su 06:00-24:00"),
        # 17:00 至 08:00: the night, in a dormitory
        ("國立新竹高級中學", "學生宿舍", "Mo-Fr 17:00-08:00"),
        # Saturday and Sunday alike, weekdays apart
        ("龍山寺地下街商場", "B1", "Mo-Fr 11:00-21:30; Sa-Su 11:00-22:00"),
        # three different day groups
        ("新光三越台北站前店", "8樓", "Mo-Fr 11:00-21:30; Sa 11:00-22:00; Su 11:00-21:30"),
        # Saturday "00:00 至 00:00", Sunday "00:00 至" (a lone 00:00 is the blank): closed at the weekend
        ("高雄醫學大學", "濟世大樓", "Mo-Fr 08:00-17:00"),
        # every day empty, 備註 "視節目演出時間開放使用" (open during shows): no hours at all
        ("國家表演藝術中心國家兩廳院", "音樂廳", "off"),
    ],
)
def test_hours_of_named_rows(registry, name, placement, hours):
    assert one(registry, name, placement).opening_hours == hours


@pytest.mark.parametrize(
    ("name", "placement", "floor"),
    [
        ("龍山寺地下街商場", "B1 B區廣場", "B1"),
        ("新光三越百貨(股)公司台北南西分公司二館", "地下一樓", "B1"),
        ("臺北捷運松山機場站BR13", "捷運松山機場站地下二樓", "B2"),
        ("彩色人生興業股份有限公司(三二行館)", "二樓", "2"),
        ("臺北市災害應變中心", "5樓", "5"),
        ("臺灣高等法院高雄分院", "五樓", "5"),
        ("新光三越百貨(股)公司台北南西分公司三館", "4F", "4"),
        ("臺北市北投區逸仙國民小學", "學校行政大樓1樓", "1"),
        ("長榮桂冠酒店(台中)", "一樓", "1"),
        ("臺北市大同區大龍國民小學", "北側警衛室外", None),
    ],
)
def test_floors_of_named_rows(registry, name, placement, floor):
    assert one(registry, name, placement).floor == floor


def test_cities_are_normalised(registry):
    assert one(registry, "台北市松山區松山國小", "健康中心").city == "臺北市"
    assert sum(1 for r in registry.records if r.city == "臺北市") == 1588
    assert not [r for r in registry.records if r.city in ("台北市", "台中市", "桃園縣")]


@pytest.mark.parametrize(
    ("text", "floor"),
    [
        ("一樓大廳", "1"),
        ("1樓", "1"),
        ("1F服務台", "1"),
        ("十二樓", "12"),
        ("二十一樓", "21"),
        ("地下1樓", "B1"),
        ("B2F停車場", "B2"),
        ("B 3F", "B3"),
        ("女生宿舍外面 於F201 F202旁", None),  # room numbers
        ("FAB2通道", None),  # a factory's name
        ("B1R候機室", None),  # a gate
        ("大樓門口", None),
    ],
)
def test_floor_from_placement_text(text, floor):
    assert taiwan_mohw.floor(text) == floor


def _hours(mon_fri: str, sat: str, sun: str, note: str = "") -> str:
    indent = "\n                "  # as the registry writes it
    return f"星期一至星期五 {mon_fri}{indent}星期六 {sat}{indent}星期日 {sun}{indent}備註:{note}"


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        (_hours("08:00 至 17:00", "08:00 至 17:00", "08:00 至 17:00"), "Mo-Su 08:00-17:00"),
        (_hours("0800 至 1700", "09:00 至 12:00", " 至 "), "Mo-Fr 08:00-17:00; Sa 09:00-12:00"),
        (_hours("08:00 至 17：00", " 至 ", " 至 "), "Mo-Fr 08:00-17:00"),  # a full-width colon
        (_hours("0000 至 2400", "0000 至 2400", "0000 至 2400"), "24/7"),
        (_hours(" 至 ", " 至 ", " 至 ", "全年無休"), "24/7"),
        # "24 hours" in principle, but not open to the public: stays closed
        (_hours(" 至 ", " 至 ", " 至 ", "以24小時開放為原則，因考量為軍事重地不另對外開放。"), "off"),
    ],
)
def test_hours_text_to_osm(text, hours):
    assert taiwan_mohw.opening_hours(text) == hours


@pytest.mark.parametrize(
    "text",
    [
        _hours("08:00 至 25:00", " 至 ", " 至 "),
        _hours("08:00 至 ", " 至 ", " 至 "),
        _hours("早上 至 晚上", " 至 ", " 至 "),
        "全天開放",
    ],
)
def test_unreadable_hours_are_refused(text):
    with pytest.raises(taiwan_mohw.UnreadableHours):
        taiwan_mohw.opening_hours(text)
