"""Daily shapes for generated scenarios: prices, building load, PV, household load.

Every shape is a function of the local hour of day (float, 0..24) and returns
values per slot. The numbers are illustrative assumptions with the typical
shape of a Dutch spring weekday; they are not market or metering data.
"""

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DAY_AHEAD_EUR_PER_KWH",
    "GRID_CO2_G_PER_KWH",
    "day_ahead_price",
    "grid_emissions",
    "household_load_kw",
    "office_load_kw",
    "pv_generation_kw",
]

# Hourly all-in import price [EUR/kWh] (energy + network + taxes): night trough,
# morning ramp, midday solar dip, evening peak.
DAY_AHEAD_EUR_PER_KWH = np.array(
    [0.24, 0.23, 0.22, 0.22, 0.22, 0.24, 0.28, 0.33, 0.35, 0.31, 0.26, 0.21,
     0.18, 0.17, 0.19, 0.23, 0.29, 0.36, 0.40, 0.38, 0.33, 0.29, 0.27, 0.25]
)  # fmt: skip
# Hourly average grid emission intensity [gCO2/kWh]: lowest at midday (solar).
GRID_CO2_G_PER_KWH = np.array(
    [330, 325, 320, 318, 320, 328, 340, 335, 310, 270, 230, 200,
     185, 190, 215, 255, 300, 345, 360, 355, 350, 345, 340, 335]
)  # fmt: skip


def _hourly(table: NDArray, hours: NDArray) -> NDArray[np.float64]:
    return table[np.floor(hours).astype(int) % 24].astype(np.float64)


def day_ahead_price(hours: NDArray) -> NDArray[np.float64]:
    """Import price [EUR/kWh] at local hours of day."""
    return _hourly(DAY_AHEAD_EUR_PER_KWH, hours)


def grid_emissions(hours: NDArray) -> NDArray[np.float64]:
    """Grid emission intensity [gCO2/kWh] at local hours of day."""
    return _hourly(GRID_CO2_G_PER_KWH, hours)


def pv_generation_kw(hours: NDArray, peak_kw: float) -> NDArray[np.float64]:
    """Clear-sky PV output [kW, <= 0 by the sign convention]: a sine from 06:30 to 19:30."""
    phase = (hours - 6.5) / 13.0
    shape = np.where((phase > 0) & (phase < 1), np.sin(np.pi * phase), 0.0)
    return -peak_kw * shape**1.5


def office_load_kw(hours: NDArray, base_kw: float, peak_kw: float) -> NDArray[np.float64]:
    """Office consumption [kW]: ``base_kw`` at night, ``peak_kw`` 08:00-18:00, ramps of 1 h."""
    ramp_up = np.clip(hours - 7.0, 0.0, 1.0)
    ramp_down = np.clip(19.0 - hours, 0.0, 1.0)
    return base_kw + (peak_kw - base_kw) * np.minimum(ramp_up, ramp_down)


def household_load_kw(hours: NDArray, mean_kw: float) -> NDArray[np.float64]:
    """After-diversity household load [kW]: night trough, morning bump, evening peak at 18-20 h."""
    evening = np.exp(-0.5 * ((hours - 19.0) / 1.6) ** 2)
    morning = 0.45 * np.exp(-0.5 * ((hours - 7.5) / 1.0) ** 2)
    return mean_kw * (0.45 + 1.4 * evening + morning)
