from datetime import datetime, timedelta, timezone

import pytest

from fera_flex._time import epoch_s, from_epoch_s, require_aware, seconds
from fera_flex.errors import InputError


def test_epoch_round_trip():
    moment = datetime(2026, 3, 2, 7, 42, tzinfo=timezone(timedelta(hours=1)))
    assert from_epoch_s(epoch_s(moment)) == moment


def test_naive_rejected_with_name():
    with pytest.raises(InputError, match="timezone-naive") as info:
        require_aware("TimeGrid", "start", datetime(2026, 1, 1))
    assert (info.value.obj, info.value.field) == ("TimeGrid", "start")
    with pytest.raises(InputError, match="aware datetime"):
        require_aware("TimeGrid", "start", "2026-01-01")


def test_sub_second_rejected():
    with pytest.raises(InputError, match="whole number of seconds"):
        epoch_s(datetime(2026, 1, 1, microsecond=5, tzinfo=timezone.utc))
    with pytest.raises(InputError, match="whole number of seconds"):
        seconds(timedelta(milliseconds=1500))


def test_seconds():
    assert seconds(timedelta(minutes=15)) == 900
    assert seconds(900) == 900
    with pytest.raises(InputError):
        seconds(15.0)
    with pytest.raises(InputError):
        seconds(True)
