"""The AED import CSV template for Chinese cities (docs/aed-import-template.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.registries import csv_template
from cli.registries.records import RegistryFormatError
from shared.geo.datum import gcj02_to_wgs84

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "aed-import-template.csv"
HEADER = "source_id,name,address,lat,lng,crs,placement,floor,indoor,access,opening_hours,contact_phone\n"


def read(tmp_path, body, header=HEADER, crs=None):
    path = tmp_path / "aeds.csv"
    path.write_text(header + body, encoding="utf-8-sig")
    return csv_template.read(path, crs=crs)


def test_the_template_documents_every_column_and_imports_nothing():
    assert TEMPLATE.read_text(encoding="utf-8-sig").splitlines()[0] == HEADER.strip()
    result = csv_template.read(TEMPLATE)
    assert result.records == [] and result.rejected == [] and result.skipped == {"example row": 1}
    documented = (TEMPLATE.parent / "aed-import.md").read_text(encoding="utf-8")
    for column in HEADER.strip().split(","):
        assert f"`{column}`" in documented, column


def test_rows_become_records(tmp_path):
    body = "HZ-0001,武林广场站 AED,杭州市下城区,30.2720,120.1630,,B1 站厅 C 口,B1,yes,yes,24/7,0571-1234567\n"
    [record] = read(tmp_path, body).records
    assert record.source_id == "HZ-0001" and (record.lat, record.lng) == (30.272, 120.163)
    assert record.floor == "B1" and record.indoor is True and record.access == "yes"
    assert record.opening_hours == "24/7" and record.contact_phone == "0571-1234567"
    assert record.line == 2


def test_gcj02_per_row_or_by_flag(tmp_path):
    body = (
        "a,A,,30.2587,120.1650,gcj02,,,,,24/7,\n"
        "b,B,,30.2587,120.1650,wgs84,,,,,24/7,\n"
        "c,C,,30.2587,120.1650,,,,,,24/7,\n"
    )
    a, b, c = read(tmp_path, body, crs="gcj02").records
    wgs84 = pytest.approx(gcj02_to_wgs84(30.2587, 120.1650), abs=1e-6)
    assert (a.lat, a.lng) == wgs84 and (c.lat, c.lng) == wgs84  # the row says so; the flag says so
    assert (b.lat, b.lng) == (30.2587, 120.1650)  # the row's own crs wins over the flag


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",A,,30.1,120.1,,,,,,24/7,", "source_id missing or longer than 128"),
        ("x,,,30.1,120.1,,,,,,24/7,", "name missing"),
        ("x,A,,北纬30,120.1,,,,,,24/7,", "lat/lng not numbers"),
        ("x,A,,95,120.1,,,,,,24/7,", "lat/lng out of range"),
        ("x,A,,30.1,120.1,bd09,,,,,24/7,", "crs not wgs84 or gcj02"),
        ("x,A,,30.1,120.1,,,,,,周一到周五,", "opening_hours missing or not valid"),
        ("x,A,,30.1,120.1,,,,maybe,,24/7,", "indoor not yes or no"),
        ("x,A,,30.1,120.1,,,,,public,24/7,", "access not one of yes, customers, permissive, private, no"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(tmp_path, row, reason):
    result = read(tmp_path, row + "\n")
    assert result.records == [] and [(r.line, r.reason) for r in result.rejected] == [(2, reason)]


def test_a_repeated_source_id_is_rejected(tmp_path):
    result = read(tmp_path, "x,A,,30.1,120.1,,,,,,24/7,\nx,B,,30.2,120.1,,,,,,24/7,\n")
    assert [r.name for r in result.records] == ["A"]
    assert [(r.line, r.reason, r.detail) for r in result.rejected] == [
        (3, "source_id repeated", "first on line 2")
    ]


def test_a_file_without_the_required_columns_cannot_be_read(tmp_path):
    with pytest.raises(RegistryFormatError, match="lat, lng"):
        read(tmp_path, "x,A\n", header="source_id,name,opening_hours\n")
