"""Hypothesis strategies that generate valid OCPI 2.2.1 JSON objects (as parsed JSON)."""

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from fera_flex.models import ocpi

PRINTABLE_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
PRINTABLE_UTF8 = st.characters(blacklist_categories=("Cc", "Cs"))


def ci_string(max_length, min_length=1):
    return st.text(PRINTABLE_ASCII, min_size=min_length, max_size=max_length)


def string(max_length, min_length=0):
    return st.text(PRINTABLE_UTF8, min_size=min_length, max_size=max_length)


def enum(kind):
    return st.sampled_from([member.value for member in kind])


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.replace(microsecond=t.microsecond // 100 * 100))
datetimes = instants.map(ocpi.format_datetime)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
non_negative = st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e9)
non_negative_int = st.integers(min_value=0, max_value=2**31 - 1)
latitude = st.from_regex(r"-?[0-9]{1,2}\.[0-9]{5,7}", fullmatch=True)
longitude = st.from_regex(r"-?[0-9]{1,3}\.[0-9]{5,7}", fullmatch=True)
one_decimal = st.integers(min_value=0, max_value=10**6).map(lambda tenths: tenths / 10)


@st.composite
def obj(draw, required, optional=None):
    """A dict with every required key and a random subset of the optional ones."""
    result = {key: draw(strategy) for key, strategy in required.items()}
    for key, strategy in (optional or {}).items():
        if draw(st.booleans()):
            result[key] = draw(strategy)
    return result


def unique_by(key, element, min_size=0, max_size=3):
    return st.lists(
        element, min_size=min_size, max_size=max_size, unique_by=lambda e: e[key].casefold()
    )


display_text = obj({"language": string(2), "text": string(512)})
price = obj({"excl_vat": numbers}, {"incl_vat": numbers})
geo = obj({"latitude": latitude, "longitude": longitude})
image = obj(
    {"url": string(255), "category": enum(ocpi.ImageCategory), "type": ci_string(4)},
    {"thumbnail": string(255), "width": st.integers(0, 99_999), "height": st.integers(0, 99_999)},
)
energy_mix = obj(
    {"is_green_energy": st.booleans()},
    {
        "energy_sources": st.lists(
            obj(
                {
                    "source": enum(ocpi.EnergySourceCategory),
                    "percentage": st.floats(0, 100, allow_nan=False),
                }
            ),
            max_size=3,
        ),
        "environ_impact": st.lists(
            obj({"category": enum(ocpi.EnvironmentalImpactCategory), "amount": non_negative}),
            max_size=2,
        ),
        "supplier_name": string(64),
        "energy_product_name": string(64),
    },
)

connector = obj(
    {
        "id": ci_string(36),
        "standard": enum(ocpi.ConnectorType),
        "format": enum(ocpi.ConnectorFormat),
        "power_type": enum(ocpi.PowerType),
        "max_voltage": st.integers(0, 1000),
        "max_amperage": st.integers(0, 500),
        "last_updated": datetimes,
    },
    {
        "max_electric_power": st.integers(0, 350_000),
        "tariff_ids": st.lists(ci_string(36), max_size=3),
        "terms_and_conditions": string(255),
    },
)


@st.composite
def status_schedule(draw):
    begin = draw(instants)
    result = {"period_begin": ocpi.format_datetime(begin), "status": draw(enum(ocpi.Status))}
    if draw(st.booleans()):
        end = begin + timedelta(seconds=draw(st.integers(0, 10**7)))
        result["period_end"] = ocpi.format_datetime(end)
    return result


evse = obj(
    {
        "uid": ci_string(36),
        "status": enum(ocpi.Status),
        "connectors": unique_by("id", connector, min_size=1),
        "last_updated": datetimes,
    },
    {
        "evse_id": ci_string(48),
        "status_schedule": st.lists(status_schedule(), max_size=2),
        "capabilities": st.lists(enum(ocpi.Capability), max_size=3),
        "floor_level": string(4),
        "coordinates": geo,
        "physical_reference": string(16),
        "directions": st.lists(display_text, max_size=2),
        "parking_restrictions": st.lists(enum(ocpi.ParkingRestriction), max_size=2),
        "images": st.lists(image, max_size=1),
    },
)

regular_hours = (
    st.tuples(st.integers(1, 7), st.integers(0, 23 * 60 + 58), st.integers(1, 23 * 60 + 59))
    .filter(lambda t: t[2] > t[1])
    .map(
        lambda t: {
            "weekday": t[0],
            "period_begin": f"{t[1] // 60:02d}:{t[1] % 60:02d}",
            "period_end": f"{t[2] // 60:02d}:{t[2] % 60:02d}",
        }
    )
)


@st.composite
def exceptional_period(draw):
    begin = draw(instants)
    end = begin + timedelta(seconds=draw(st.integers(1, 10**7)))
    return {"period_begin": ocpi.format_datetime(begin), "period_end": ocpi.format_datetime(end)}


@st.composite
def hours(draw):
    always = draw(st.booleans())
    result = {"twentyfourseven": always}
    if not always:
        result["regular_hours"] = draw(st.lists(regular_hours, min_size=1, max_size=7))
    for key in ("exceptional_openings", "exceptional_closings"):
        if draw(st.booleans()):
            result[key] = draw(st.lists(exceptional_period(), max_size=2))
    return result


publish_token = st.one_of(
    obj({"uid": ci_string(36), "type": enum(ocpi.TokenType)}, {"group_id": ci_string(36)}),
    obj({"visual_number": string(64), "issuer": string(64)}),
    obj({"group_id": ci_string(36)}),
)
business = obj({"name": string(100)}, {"website": string(255), "logo": image})


@st.composite
def location(draw):
    result = draw(
        obj(
            {
                "country_code": ci_string(2),
                "party_id": ci_string(3),
                "id": ci_string(36),
                "publish": st.booleans(),
                "address": string(255),
                "city": string(45),
                "country": string(3),
                "coordinates": geo,
                "time_zone": string(255),
                "last_updated": datetimes,
            },
            {
                "name": string(255),
                "postal_code": string(10),
                "state": string(45),
                "related_locations": st.lists(
                    st.tuples(geo, st.one_of(st.none(), display_text)).map(
                        lambda gn: gn[0] if gn[1] is None else {**gn[0], "name": gn[1]}
                    ),
                    max_size=2,
                ),
                "parking_type": enum(ocpi.ParkingType),
                "evses": unique_by("uid", evse),
                "directions": st.lists(display_text, max_size=2),
                "operator": business,
                "suboperator": business,
                "owner": business,
                "facilities": st.lists(enum(ocpi.Facility), max_size=3),
                "opening_times": hours(),
                "charging_when_closed": st.booleans(),
                "images": st.lists(image, max_size=2),
                "energy_mix": energy_mix,
            },
        )
    )
    if not result["publish"] and draw(st.booleans()):
        result["publish_allowed_to"] = draw(st.lists(publish_token, min_size=1, max_size=2))
    return result


cdr_token = obj(
    {
        "country_code": ci_string(2),
        "party_id": ci_string(3),
        "uid": ci_string(36),
        "type": enum(ocpi.TokenType),
        "contract_id": ci_string(36),
    }
)


def dimension(types):
    def volume_for(kind):
        if kind == "STATE_OF_CHARGE":
            return st.floats(0, 100, allow_nan=False)
        if kind in ("ENERGY_EXPORT", "ENERGY_IMPORT", "PARKING_TIME", "RESERVATION_TIME", "TIME"):
            return non_negative
        return numbers

    return st.sampled_from(types).flatmap(
        lambda kind: volume_for(kind).map(lambda volume: {"type": kind, "volume": volume})
    )


def charging_period(types):
    return obj(
        {
            "start_date_time": datetimes,
            "dimensions": st.lists(dimension(types), min_size=1, max_size=4),
        },
        {"tariff_id": ci_string(36)},
    )


ALL_DIMENSIONS = [member.value for member in ocpi.CdrDimensionType]
CDR_DIMENSIONS = [d for d in ALL_DIMENSIONS if d not in ocpi.SESSION_ONLY_DIMENSIONS]


@st.composite
def session(draw):
    start = draw(instants)
    result = draw(
        obj(
            {
                "country_code": ci_string(2),
                "party_id": ci_string(3),
                "id": ci_string(36),
                "kwh": non_negative,
                "cdr_token": cdr_token,
                "auth_method": enum(ocpi.AuthMethod),
                "location_id": ci_string(36),
                "evse_uid": ci_string(36),
                "connector_id": ci_string(36),
                "currency": string(3),
                "status": enum(ocpi.SessionStatus),
                "last_updated": datetimes,
            },
            {
                "authorization_reference": ci_string(36),
                "meter_id": string(255),
                "charging_periods": st.lists(charging_period(ALL_DIMENSIONS), max_size=3),
                "total_cost": price,
            },
        )
    )
    result["start_date_time"] = ocpi.format_datetime(start)
    if draw(st.booleans()):
        end = start + timedelta(seconds=draw(st.integers(0, 10**6)))
        result["end_date_time"] = ocpi.format_datetime(end)
    return result


preferences = obj(
    {"profile_type": enum(ocpi.ProfileType)},
    {"departure_time": datetimes, "energy_need": non_negative, "discharge_allowed": st.booleans()},
)

token = obj(
    {
        "country_code": ci_string(2),
        "party_id": ci_string(3),
        "uid": ci_string(36),
        "type": enum(ocpi.TokenType),
        "contract_id": ci_string(36),
        "issuer": string(64),
        "valid": st.booleans(),
        "whitelist": enum(ocpi.WhitelistType),
        "last_updated": datetimes,
    },
    {
        "visual_number": string(64),
        "group_id": ci_string(36),
        "language": string(2),
        "default_profile_type": enum(ocpi.ProfileType),
        "energy_contract": obj({"supplier_name": string(64)}, {"contract_id": string(64)}),
    },
)

price_component = obj(
    {"type": enum(ocpi.TariffDimensionType), "price": numbers, "step_size": non_negative_int},
    {"vat": st.floats(0, 100, allow_nan=False)},
)
restrictions = obj(
    {},
    {
        "start_time": st.from_regex(r"([0-1][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True),
        "end_time": st.from_regex(r"([0-1][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True),
        "min_kwh": st.floats(0, 100, allow_nan=False),
        "max_kwh": st.floats(101, 1000, allow_nan=False),
        "min_power": st.floats(0, 100, allow_nan=False),
        "max_power": st.floats(101, 1000, allow_nan=False),
        "min_duration": st.integers(0, 3600),
        "max_duration": st.integers(3601, 86400),
        "day_of_week": st.lists(enum(ocpi.DayOfWeek), max_size=7, unique=True),
    },
)
tariff = obj(
    {
        "country_code": ci_string(2),
        "party_id": ci_string(3),
        "id": ci_string(36),
        "currency": string(3),
        "elements": st.lists(
            obj(
                {"price_components": st.lists(price_component, min_size=1, max_size=3)},
                {"restrictions": restrictions},
            ),
            min_size=1,
            max_size=3,
        ),
        "last_updated": datetimes,
    },
    {
        "type": enum(ocpi.TariffType),
        "tariff_alt_text": st.lists(display_text, max_size=2),
        "tariff_alt_url": string(255),
        "energy_mix": energy_mix,
    },
)


@st.composite
def charging_profile(draw):
    starts = sorted(draw(st.sets(st.integers(0, 86_400), max_size=6)))
    result = {
        "charging_rate_unit": draw(enum(ocpi.ChargingRateUnit)),
        "charging_profile_period": [
            {"start_period": start, "limit": draw(one_decimal)} for start in starts
        ],
    }
    if draw(st.booleans()):
        result["start_date_time"] = draw(datetimes)
    if draw(st.booleans()):
        result["duration"] = (starts[-1] if starts else 0) + draw(st.integers(1, 86_400))
    if draw(st.booleans()):
        result["min_charging_rate"] = draw(one_decimal)
    return result


@st.composite
def cdr(draw):
    start = draw(instants)
    total_time = draw(st.floats(0, 1000, allow_nan=False))
    result = draw(
        obj(
            {
                "country_code": ci_string(2),
                "party_id": ci_string(3),
                "id": ci_string(36),
                "cdr_token": cdr_token,
                "auth_method": enum(ocpi.AuthMethod),
                "cdr_location": obj(
                    {
                        "id": ci_string(36),
                        "address": string(45),
                        "city": string(45),
                        "country": string(3),
                        "coordinates": geo,
                        "evse_uid": ci_string(36),
                        "evse_id": ci_string(48),
                        "connector_id": ci_string(36),
                        "connector_standard": enum(ocpi.ConnectorType),
                        "connector_format": enum(ocpi.ConnectorFormat),
                        "connector_power_type": enum(ocpi.PowerType),
                    },
                    {"name": string(255), "postal_code": string(10), "state": string(20)},
                ),
                "currency": string(3),
                "charging_periods": st.lists(
                    charging_period(CDR_DIMENSIONS), min_size=1, max_size=3
                ),
                "total_cost": price,
                "total_energy": non_negative,
                "last_updated": datetimes,
            },
            {
                "session_id": ci_string(36),
                "meter_id": string(255),
                "tariffs": st.lists(tariff, max_size=1),
                "total_energy_cost": price,
                "total_time_cost": price,
                "remark": string(255),
                "home_charging_compensation": st.booleans(),
            },
        )
    )
    end = start + timedelta(seconds=draw(st.integers(0, 10**6)))
    result["start_date_time"] = ocpi.format_datetime(start)
    result["end_date_time"] = ocpi.format_datetime(end)
    result["total_time"] = total_time
    if draw(st.booleans()):
        result["total_parking_time"] = draw(st.floats(0, total_time, allow_nan=False))
    return result


MODELS = {
    "Location": (ocpi.Location, location()),
    "EVSE": (ocpi.EVSE, evse),
    "Connector": (ocpi.Connector, connector),
    "Session": (ocpi.Session, session()),
    "ChargingPreferences": (ocpi.ChargingPreferences, preferences),
    "Token": (ocpi.Token, token),
    "Tariff": (ocpi.Tariff, tariff),
    "CDR": (ocpi.CDR, cdr()),
    "ChargingProfile": (ocpi.ChargingProfile, charging_profile()),
}
