"""The simulated fleet: vehicles, keys, fob cells and the firmware release plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from access_analytics.generator import model as m
from access_analytics.generator.arrow_util import random_hex_ids
from access_analytics.generator.units import DAY_US

PHONE, FOB, CARD = 0, 1, 2
KEY_TYPES = ("phone", "fob", "card")
KEY_PREFIX = ("ph", "fb", "kc")
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
_VIN_VALUE = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_MODEL_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010 = A, cycles every 30 years
# Owners replace a cell once the car warns about it, so cells in use at the start are at most
# this far into their life; the slowest-draining ones still reach the knee in a long window.
CELL_AGE_SHARE_OF_LIFE = 0.8


@dataclass(frozen=True)
class Release:
    version: str
    day: int  # first day of the rollout, relative to the start date
    channel: str
    released_on: dt.date


@dataclass
class Fleet:
    start_date: dt.date
    n: int
    vins: pa.StringArray
    model: np.ndarray
    region: np.ndarray
    hw_uwb: np.ndarray
    tz_hours: np.ndarray
    delivered_on: np.ndarray  # datetime64[D]
    temp_offset: np.ndarray
    feature_disabled: np.ndarray
    home_exclusion: np.ndarray
    early_access: np.ndarray
    fob_preference: np.ndarray
    # keys, contiguous per vehicle: phones, then fobs, then cards
    key_ids: pa.StringArray
    key_vehicle: np.ndarray
    key_type: np.ndarray
    key_uwb: np.ndarray
    key_paired_us: np.ndarray
    key_lot: np.ndarray  # index into lots, -1 when not a fob
    phone_start: np.ndarray
    phone_count: np.ndarray
    fob_start: np.ndarray
    fob_count: np.ndarray
    card_start: np.ndarray
    soc0: np.ndarray  # fob cell state of charge on the start date (nan for other keys)
    soc_per_day: np.ndarray
    lots: list[str]
    fast_lot: str
    releases: list[Release]
    unknown_builds: list[str]
    adoption: np.ndarray  # (vehicles, releases): first day a vehicle runs the release
    regression_release: int

    @property
    def versions(self) -> pa.StringArray:
        """Registered versions followed by the unregistered service builds."""
        return pa.array([r.version for r in self.releases] + self.unknown_builds)

    def version_on(self, day: int) -> np.ndarray:
        """Index into `releases` of the version each vehicle runs on a given day."""
        on = self.adoption <= day
        return (on.shape[1] - 1 - np.argmax(on[:, ::-1], axis=1)).astype(np.int16)


def _choice(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    values = np.array([o[0] for o in options])
    weights = np.array([o[1] for o in options], dtype=float)
    return values[rng.choice(len(values), size=n, p=weights / weights.sum())]


def _vin(wmi: str, model_code: str, year: int, body: str, serial: int) -> str:
    year_code = _MODEL_YEAR_CODES[(year - 2010) % 30]
    vin = list(f"{wmi}{model_code}{body[:4]}0{year_code}{body[4]}{serial:06d}")
    total = sum(_VIN_VALUE[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = total % 11
    vin[8] = "X" if check == 10 else str(check)
    return "".join(vin)


def _stratified_uniform(rng: np.random.Generator, strata: np.ndarray) -> np.ndarray:
    """A uniform draw per vehicle whose quantiles are evenly spread within every stratum."""
    n = len(strata)
    order = np.lexsort((rng.random(n), strata))
    counts = np.bincount(strata)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_strata = strata[order]
    rank = np.arange(n) - starts[sorted_strata]
    u = np.empty(n)
    u[order] = (rank + rng.random(n)) / counts[sorted_strata]
    return u


def _version(day: dt.date, patch: int) -> str:
    iso = day.isocalendar()
    return f"{iso.year}.{iso.week}.{patch}"


def plan_releases(start: dt.date, days: int, rng: np.random.Generator) -> tuple[list[Release], int]:
    """Releases ordered by date and the index of the one that regresses.

    Production ships every two weeks; an early-access build follows each production
    release by a week, except right before the regressing release, whose predecessor is a
    production release so the comparison has enough data on both sides. The regressing
    release is the middle one of those whose 14-day comparison window fits in the data.
    """
    plan: list[tuple[int, str]] = [(d, "production") for d in m.PRE_WINDOW_RELEASE_DAYS]
    production = list(range(m.FIRST_RELEASE_DAY, days, m.PRODUCTION_CADENCE_DAYS))
    if not production and days >= 2:
        production = [days // 2]
    fits = [i for i, d in enumerate(production) if d + 14 <= days]
    if fits:
        regressing_day: int | None = production[fits[len(fits) // 2]]
    elif production:
        regressing_day = production[-1]
    else:
        regressing_day = None
    for i, d in enumerate(production):
        plan.append((d, "production"))
        next_day = production[i + 1] if i + 1 < len(production) else None
        early = d + m.EARLY_ACCESS_OFFSET_DAYS
        if early < days and next_day != regressing_day:
            plan.append((early, "early_access"))
    plan.sort()
    releases = []
    for d, channel in plan:
        released_on = start + dt.timedelta(days=d)
        patch = int(rng.integers(1, 6)) if channel == "production" else int(rng.integers(1, 4))
        releases.append(Release(_version(released_on, patch), d, channel, released_on))
    if regressing_day is None:
        regressing_day = m.PRE_WINDOW_RELEASE_DAYS[-1]
    regression = next(
        i for i, r in enumerate(releases) if r.day == regressing_day and r.channel == "production"
    )
    return releases, regression


def build_fleet(n: int, start: dt.date, days: int, seed: int) -> Fleet:
    rng = np.random.default_rng([seed, 1])
    start64 = np.datetime64(start, "D")

    model = rng.choice(len(m.MODELS), size=n, p=np.array(m.MODEL_WEIGHTS) / sum(m.MODEL_WEIGHTS))
    region = rng.choice(len(m.REGIONS), size=n, p=m.REGION_WEIGHTS)
    tz_hours = np.zeros(n)
    for r, zones in enumerate(m.REGION_TZ):
        mask = region == r
        tz_hours[mask] = _choice(rng, zones, int(mask.sum()))
    age_days = rng.integers(7, m.FLEET_AGE_DAYS, size=n)
    truck = model == m.MODELS.index("Cybertruck")
    age_days[truck] = rng.integers(7, 800, size=int(truck.sum()))
    delivered_on = start64 - age_days.astype("timedelta64[D]")
    recent = age_days <= m.UWB_RECENT_DAYS
    hw_uwb = rng.random(n) < np.where(recent, m.UWB_SHARE_RECENT, m.UWB_SHARE_OLD)
    hw_uwb |= truck

    body_chars = np.array(list(VIN_ALPHABET))
    bodies = rng.choice(body_chars, size=(n, 5))
    years = delivered_on.astype("datetime64[Y]").astype(int) + 1970
    vins = pa.array(
        [
            _vin(
                m.REGION_WMI[region[i]],
                m.MODEL_VIN_CODE[model[i]],
                int(years[i]),
                "".join(bodies[i]),
                100_000 + i,
            )
            for i in range(n)
        ]
    )

    home_share = np.array([m.HOME_EXCLUSION_SHARE[r] for r in m.REGIONS])
    home_exclusion = rng.random(n) < home_share[region]
    feature_disabled = rng.random(n) < m.FEATURE_DISABLED_SHARE
    early_access = rng.random(n) < m.EARLY_ACCESS_SHARE
    temp_offset = rng.normal(0.0, m.VEHICLE_TEMP_SD, size=n)

    # keys
    phone_count = _choice(rng, m.PHONES_PER_VEHICLE, n).astype(np.int32)
    has_fob = rng.random(n) < m.FOB_OWNER_SHARE
    fob_count = np.where(has_fob, 1 + (rng.random(n) < m.SECOND_FOB_SHARE), 0).astype(np.int32)
    fob_preference = np.where(has_fob, rng.uniform(*m.FOB_PREFERENCE, size=n), 0.0)
    per_vehicle = phone_count + fob_count + m.CARDS_PER_VEHICLE
    phone_start = np.concatenate([[0], np.cumsum(per_vehicle)[:-1]]).astype(np.int32)
    fob_start = phone_start + phone_count
    card_start = fob_start + fob_count
    n_keys = int(per_vehicle.sum())
    key_vehicle = np.repeat(np.arange(n, dtype=np.int32), per_vehicle)
    slot = np.arange(n_keys) - phone_start[key_vehicle]
    key_type = np.where(
        slot < phone_count[key_vehicle],
        PHONE,
        np.where(slot < (phone_count + fob_count)[key_vehicle], FOB, CARD),
    ).astype(np.int8)
    key_uwb = (key_type == PHONE) & (rng.random(n_keys) < m.PHONE_UWB_CAPABLE_SHARE)
    hexes = random_hex_ids(rng, n_keys, 8).to_pylist()
    key_ids = pa.array([f"{KEY_PREFIX[t]}_{h}" for t, h in zip(key_type, hexes, strict=True)])

    delivered_us = delivered_on.astype("datetime64[us]").astype(np.int64)
    owned_us = (start64.astype("datetime64[us]").astype(np.int64) - delivered_us)[key_vehicle]
    paired = delivered_us[key_vehicle] + (rng.random(n_keys) * 3600e6).astype(np.int64)
    phones = key_type == PHONE
    paired[phones] += (rng.random(int(phones.sum())) * owned_us[phones] * 0.9).astype(np.int64)
    fobs = key_type == FOB
    paired[fobs] += (rng.random(int(fobs.sum())) * np.minimum(owned_us[fobs], 30 * DAY_US)).astype(
        np.int64
    )

    # fob cells: installed some time before the start date, drained in proportion to age
    n_fobs = int(fobs.sum())
    life = np.clip(rng.normal(*m.CELL_LIFE_DAYS, size=n_fobs), 250.0, None)
    age = rng.uniform(0.0, CELL_AGE_SHARE_OF_LIFE, size=n_fobs) * life
    installed = start64 - age.astype("timedelta64[D]")
    quarter_month = (installed.astype("datetime64[M]").astype(int) // 3) * 3
    letters = rng.integers(0, len(m.LOT_LETTERS), size=n_fobs)
    lot_names = [
        f"L{1970 + q // 12}-{q % 12 + 1:02d}{m.LOT_LETTERS[c]}"
        for q, c in zip(quarter_month, letters, strict=True)
    ]
    fast_month = (int((start64 - 75).astype("datetime64[M]").astype(int)) // 3) * 3
    fast_lot = f"L{1970 + fast_month // 12}-{fast_month % 12 + 1:02d}B"
    lots = sorted(set(lot_names) | {fast_lot})
    lot_index = np.array([lots.index(x) for x in lot_names], dtype=np.int16)
    rate = 1.0 / life
    rate[lot_index == lots.index(fast_lot)] *= m.FAST_LOT_DRAIN_FACTOR
    key_lot = np.full(n_keys, -1, dtype=np.int16)
    key_lot[fobs] = lot_index
    soc0 = np.full(n_keys, np.nan)
    soc_per_day = np.full(n_keys, np.nan)
    soc0[fobs] = np.clip(1.0 - age * rate, m.MIN_SOC, 1.0)
    soc_per_day[fobs] = rate

    releases, regression = plan_releases(start, days, rng)
    adoption = _plan_adoption(rng, releases, region, hw_uwb, has_fob, early_access)
    unknown_builds = sorted(
        {
            _version(start + dt.timedelta(days=d), m.UNKNOWN_BUILD_PATCH_BASE + k)
            for k, d in enumerate(range(0, days, 21))
        }
    )

    return Fleet(
        start_date=start,
        n=n,
        vins=vins,
        model=model.astype(np.int8),
        region=region.astype(np.int8),
        hw_uwb=hw_uwb,
        tz_hours=tz_hours,
        delivered_on=delivered_on,
        temp_offset=temp_offset,
        feature_disabled=feature_disabled,
        home_exclusion=home_exclusion,
        early_access=early_access,
        fob_preference=fob_preference,
        key_ids=key_ids,
        key_vehicle=key_vehicle,
        key_type=key_type,
        key_uwb=key_uwb,
        key_paired_us=paired,
        key_lot=key_lot,
        phone_start=phone_start,
        phone_count=phone_count,
        fob_start=fob_start.astype(np.int32),
        fob_count=fob_count,
        card_start=card_start.astype(np.int32),
        soc0=soc0,
        soc_per_day=soc_per_day,
        lots=lots,
        fast_lot=fast_lot,
        releases=releases,
        unknown_builds=unknown_builds,
        adoption=adoption,
        regression_release=regression,
    )


def _plan_adoption(
    rng: np.random.Generator,
    releases: list[Release],
    region: np.ndarray,
    hw_uwb: np.ndarray,
    has_fob: np.ndarray,
    early_access: np.ndarray,
) -> np.ndarray:
    """Day from which each vehicle runs each release (inf: never)."""
    n = len(region)
    strata = (region.astype(np.int64) * 2 + hw_uwb) * 2 + has_fob
    adoption = np.full((n, len(releases)), np.inf)
    pre = [i for i, r in enumerate(releases) if r.day < 0]
    u0 = _stratified_uniform(rng, strata)
    oldest = u0 < m.INITIAL_OLDEST_SHARE
    previous = ~oldest & (u0 < m.INITIAL_OLDEST_SHARE + m.INITIAL_PREVIOUS_SHARE)
    current = ~oldest & ~previous
    adoption[:, pre[0]] = -np.inf
    adoption[previous | current, pre[-2]] = -np.inf
    adoption[current, pre[-1]] = -np.inf
    updating = ~oldest  # chronically offline cars never update during the window
    for i, release in enumerate(releases):
        if release.day < 0:
            continue
        if release.channel == "production":
            u = _stratified_uniform(rng, strata)
            lag = np.floor(np.interp(u, m.ROLLOUT_SHARE, m.ROLLOUT_DAYS))
            lag[early_access] = rng.integers(0, 2, size=int(early_access.sum()))
            adoption[updating, i] = release.day + lag[updating]
        else:
            members = updating & early_access
            adoption[members, i] = release.day + rng.integers(0, 2, size=int(members.sum()))
    return adoption
