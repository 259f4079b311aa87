"""Deployment settings as ops set them: each from its variable, within its bounds, and a clear error
naming the variable when a value would not work."""

from __future__ import annotations

import pytest

from shared.config import SettingError, Settings, default_value, env_name


def test_absent_variables_give_the_defaults() -> None:
    settings = Settings.from_environ({})
    assert (settings.wave1_radius_m, settings.wave1_size, settings.cpr_slots) == (1000.0, 10, 2)
    assert settings.credit_points["arrived"] == default_value("credit_points")["arrived"] == 10
    assert settings.region == "cn-north-1"


def test_each_setting_is_read_from_its_variable_and_typed() -> None:
    settings = Settings.from_environ(
        {
            "WAVE1_RADIUS_M": "800",
            "WAVE2_SIZE": "0",
            "CREDIT_POINTS": '{"arrived": 12}',
            "PUSH_APPLICATIONS": '{"fcm": "arn:aws-cn:sns:cn-north-1:1:app/GCM/x"}',
            "AEDS_TABLE": "city-aeds",
        }
    )
    assert settings.wave1_radius_m == 800.0 and isinstance(settings.wave1_radius_m, float)
    assert settings.wave2_size == 0
    assert settings.credit_points == {"arrived": 12}
    assert settings.push_applications == {"fcm": "arn:aws-cn:sns:cn-north-1:1:app/GCM/x"}
    assert settings.aeds_table == "city-aeds"
    assert env_name("aeds_table") == "AEDS_TABLE"


def test_the_region_falls_back_to_the_tools_variable() -> None:
    assert Settings.from_environ({"AWS_DEFAULT_REGION": "cn-northwest-1"}).region == "cn-northwest-1"
    both = {"AWS_REGION": "cn-north-1", "AWS_DEFAULT_REGION": "cn-northwest-1"}
    assert Settings.from_environ(both).region == "cn-north-1"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("WAVE1_SIZE", "0", "WAVE1_SIZE: 0 is not >= 1"),
        ("WAVE1_SIZE", "51", "WAVE1_SIZE: 51 is not <= 50"),
        ("WAVE1_RADIUS_M", "0", "WAVE1_RADIUS_M: 0.0 is not > 0"),
        ("WAVE1_RADIUS_M", "nan", "WAVE1_RADIUS_M: 'nan' is not a finite number"),
        ("CPR_SLOTS", "two", "CPR_SLOTS: invalid literal"),
        ("CREDIT_POINTS", '{"arrived": "10"}', "CREDIT_POINTS: must be a JSON object of int values"),
        ("CREDIT_POINTS", '{"arrived": true}', "CREDIT_POINTS: must be a JSON object of int values"),
        ("PASS_MARKS", "[80]", "PASS_MARKS: must be a JSON object"),
        ("PUSH_APPLICATIONS", "{", "PUSH_APPLICATIONS: Expecting"),
    ],
)
def test_a_value_that_would_not_work_names_its_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingError) as raised:
        Settings.from_environ({variable: value})
    assert str(raised.value).startswith(says)
