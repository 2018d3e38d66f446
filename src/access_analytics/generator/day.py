"""One local day of the fleet's life, simulated for all vehicles at once.

The day is built trip by trip: a person approaches the car (passive-entry attempt, or a
key-card tap), drives, parks and walks away (walk-away lock episode). Every trip is a row of
numpy arrays and every possible event of a trip is one vectorised block, so a day of
20,000 cars is a few dozen array operations rather than a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from access_analytics.contract import accepted_values
from access_analytics.generator import model as m
from access_analytics.generator.fleet import Fleet
from access_analytics.generator.units import DAY_US, MS, S

EVENT_TYPES = accepted_values("access_events", "event_type")
(
    KEY_DETECTED,
    UNLOCK_ZONE_ENTERED,
    AUTH_SUCCEEDED,
    AUTH_FAILED,
    HANDLE_PULLED,
    DOOR_UNLOCKED,
    DOOR_OPENED,
    DOOR_CLOSED,
    LOCK_ZONE_EXITED,
    WALKAWAY_SUPPRESSED,
    DOOR_LOCKED,
    NFC_TAPPED,
) = range(len(EVENT_TYPES))
RADIOS = ("ble", "uwb", "nfc", "lf")
BLE, UWB, NFC, LF = range(4)
LOCK_SOURCES = ("passive", "card", "app", "fob_button", "walkaway", "drive_away")
PASSIVE, CARD_LOCK, APP, FOB_BUTTON, WALKAWAY, DRIVE_AWAY = range(6)
DETAILS = (
    "timeout",
    "bad_mac",
    "relay_suspected",
    "key_inside",
    "door_ajar",
    "home_exclusion",
    "feature_disabled",
)
SUPPRESSION_REASONS = ("key_inside", "door_ajar", "home_exclusion", "feature_disabled")

NO_RSSI = np.iinfo(np.int16).min


def _per_radio(table: dict[str, object], default: object = 0.0) -> np.ndarray:
    return np.array([table.get(r, default) for r in RADIOS])


_LAT_MEDIAN = _per_radio({r: v[0] for r, v in m.LATENCY.items()}, 1.0)
_LAT_SIGMA = _per_radio({r: v[1] for r, v in m.LATENCY.items()})
_RETRY = _per_radio(m.RETRY_SHARE)
_TIMEOUT = _per_radio(m.TIMEOUT_SHARE)
_TTL_MEDIAN = _per_radio({r: v[0] for r, v in m.TIME_TO_LOCK.items()}, 1.0)
_TTL_SIGMA = _per_radio({r: v[1] for r, v in m.TIME_TO_LOCK.items()})


def _lognormal_ms(rng: np.random.Generator, median: object, sigma: object, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(n))


def _us(ms: np.ndarray) -> np.ndarray:
    return (ms * MS).astype(np.int64)


def _seconds_us(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """n uniform durations between low and high seconds, in whole microseconds."""
    return (rng.uniform(low, high, n) * S).astype(np.int64)


def _pick(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    weights = np.array([o[1] for o in options], dtype=float)
    return rng.choice(len(options), size=n, p=weights / weights.sum())


@dataclass
class DayData:
    """Flat event and reading arrays of one day, plus what the upload path needs."""

    events: dict[str, np.ndarray]
    readings: dict[str, np.ndarray]
    trip_vehicle: np.ndarray
    trip_delay_us: np.ndarray
    skew_us: np.ndarray  # per vehicle
    version: np.ndarray  # per vehicle: index into fleet.versions


class _Sink:
    """Collects event blocks; each block is one event type for a subset of trips."""

    def __init__(self, trip_vehicle: np.ndarray) -> None:
        self.trip_vehicle = trip_vehicle
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(
        self,
        trips: np.ndarray,
        t_us: np.ndarray,
        event_type: int,
        *,
        key: np.ndarray | int = -1,
        radio: np.ndarray | int = -1,
        rssi: np.ndarray | None = None,
        distance: np.ndarray | None = None,
        lock: int = -1,
        detail: np.ndarray | int = -1,
    ) -> None:
        n = len(trips)
        if n == 0:
            return

        def full(value: np.ndarray | int, dtype: type) -> np.ndarray:
            return np.broadcast_to(np.asarray(value, dtype=dtype), (n,))

        self.blocks.append(
            {
                "trip": trips.astype(np.int32),
                "t_us": t_us.astype(np.int64),
                "event_type": np.full(n, event_type, dtype=np.int8),
                "key": full(key, np.int32),
                "radio": full(radio, np.int8),
                "rssi": full(NO_RSSI if rssi is None else rssi, np.int16),
                "distance": full(np.nan if distance is None else distance, np.float32),
                "lock": np.full(n, lock, dtype=np.int8),
                "detail": full(detail, np.int8),
            }
        )

    def arrays(self) -> dict[str, np.ndarray]:
        out = {k: np.concatenate([b[k] for b in self.blocks]) for k in self.blocks[0]}
        out["vehicle"] = self.trip_vehicle[out["trip"]]
        return out


def _radio_signal(
    rng: np.random.Generator, radio: np.ndarray, rssi_mean: float, dist_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """RSSI on BLE rows only, ranged distance on UWB rows only."""
    n = len(radio)
    rssi = np.clip(np.round(rng.normal(rssi_mean, 4.0, n)), -110, -35).astype(np.int16)
    rssi = np.where(radio == BLE, rssi, NO_RSSI).astype(np.int16)
    dist = np.round(rng.uniform(*dist_range, n), 2).astype(np.float32)
    dist = np.where(radio == UWB, dist, np.nan).astype(np.float32)
    return rssi, dist


@dataclass
class _Trips:
    """One row per trip of the day: who drives, when, with which key over which radio."""

    vehicle: np.ndarray
    start_us: np.ndarray  # when the person reaches the car, UTC
    drive_us: np.ndarray
    last_of_day: np.ndarray
    is_card: np.ndarray
    is_fob: np.ndarray
    is_phone: np.ndarray
    key: np.ndarray
    radio: np.ndarray
    card_key: np.ndarray  # the car's card for this trip, also used for manual locks
    primary_phone: np.ndarray  # the app that unlocks or locks remotely


@dataclass
class _Approach:
    """The phone and fob trips (index `trip` into the day's trips) with their key and radio."""

    trip: np.ndarray
    radio: np.ndarray
    key: np.ndarray
    start_us: np.ndarray

    def __len__(self) -> int:
        return len(self.trip)


def simulate_day(
    fleet: Fleet,
    day: int,
    rng: np.random.Generator,
    *,
    late_rate: float,
    very_late_rate: float,
    skew_rate: float,
    unknown_firmware_rate: float,
) -> DayData:
    """Every trip of one local day, step by step in a fixed order (the random draws of each
    step follow those of the step before, so the same seed gives the same bytes)."""
    vi, t0, drive_us, last_of_day = _plan_trips(fleet, day, rng)
    trips = _choose_keys(fleet, rng, vi, t0, drive_us, last_of_day)
    version, skew_us = _firmware_and_clock(fleet, day, rng, unknown_firmware_rate, skew_rate)
    delay_s = _upload_delay_s(rng, len(vi), late_rate, very_late_rate)
    regressed = _in_regression(fleet, version, trips)

    sink = _Sink(vi)
    readings: list[tuple[np.ndarray, np.ndarray]] = []
    a = np.nonzero(~trips.is_card)[0]
    approach = _Approach(a, trips.radio[a], trips.key[a], t0[a])
    opened_us = _unlock_attempts(sink, readings, rng, trips, approach, regressed[approach.trip])
    c = np.nonzero(trips.is_card)[0]
    card_unlock = _card_unlocks(sink, rng, trips, c)
    parked = _doors_and_drive(sink, rng, trips, approach, opened_us, c, card_unlock)
    _card_lock_taps(sink, rng, trips, c, parked)
    _walkaway_episodes(sink, readings, rng, fleet, trips, approach, parked[approach.trip])

    reading_trips = np.concatenate([r[0] for r in readings])
    reading_at = np.concatenate([r[1] for r in readings])
    return DayData(
        events=sink.arrays(),
        readings=_battery_readings(fleet, rng, day, vi, trips.key, reading_trips, reading_at),
        trip_vehicle=vi,
        trip_delay_us=(delay_s * S).astype(np.int64),
        skew_us=skew_us,
        version=version,
    )


def _plan_trips(
    fleet: Fleet, day: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How many trips each car makes and when (local rhythm), spaced so a trip ends before
    the next: the vehicle, start time, drive duration and last-of-day flag of every trip."""
    n = fleet.n
    local_date = np.datetime64(fleet.start_date, "D") + day
    weekend = int((local_date.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    day_start_us = local_date.astype("datetime64[us]").astype(np.int64)
    trips_per_vehicle = np.array([k for k, _ in (m.TRIPS_WEEKEND if weekend else m.TRIPS_WEEKDAY)])
    count = trips_per_vehicle[_pick(rng, m.TRIPS_WEEKEND if weekend else m.TRIPS_WEEKDAY, n)]
    max_trips = int(trips_per_vehicle.max())
    hourly = np.array(m.HOURLY_WEEKEND if weekend else m.HOURLY_WEEKDAY)
    cdf = np.cumsum(hourly) / hourly.sum()
    hours = np.minimum(np.searchsorted(cdf, rng.random((n, max_trips)), side="right"), 23)
    local_s = hours * 3600.0 + rng.random((n, max_trips)) * 3600.0
    used = np.arange(max_trips)[None, :] < count[:, None]
    local_s[~used] = np.inf
    local_s.sort(axis=1)
    drive_s = np.clip(
        np.exp(
            np.log(m.DRIVE_MEDIAN_MIN * 60) + m.DRIVE_SIGMA * rng.standard_normal((n, max_trips))
        ),
        180.0,
        7200.0,
    )
    # a trip occupies its drive plus entry, parking, the 600 s walk-away window and the
    # latest remote lock; the next trip of the car may start only after that
    busy_s = drive_s + 2430.0
    offset = np.concatenate([np.zeros((n, 1)), np.cumsum(busy_s, axis=1)[:, :-1]], axis=1)
    start_s = offset + np.maximum.accumulate(local_s - offset, axis=1)
    vi, slot = np.nonzero(used)
    t0 = (
        day_start_us
        - (fleet.tz_hours[vi] * 3600 * S).astype(np.int64)
        + (start_s[vi, slot] * S).astype(np.int64)
    )
    drive_us = (drive_s[vi, slot] * S).astype(np.int64)
    return vi, t0, drive_us, slot == count[vi] - 1


def _choose_keys(
    fleet: Fleet,
    rng: np.random.Generator,
    vi: np.ndarray,
    t0: np.ndarray,
    drive_us: np.ndarray,
    last_of_day: np.ndarray,
) -> _Trips:
    """Which key each trip uses (card, fob or one of the phones) and over which radio."""
    t = len(vi)
    is_card = rng.random(t) < m.CARD_TRIP_SHARE
    is_fob = ~is_card & (rng.random(t) < fleet.fob_preference[vi])
    is_phone = ~is_card & ~is_fob
    primary_phone = fleet.phone_start[vi]
    phone_key = primary_phone + np.where(
        rng.random(t) < m.PRIMARY_PHONE_SHARE, 0, rng.integers(0, fleet.phone_count[vi])
    )
    fob_key = fleet.fob_start[vi] + rng.integers(0, np.maximum(fleet.fob_count[vi], 1))
    card_key = fleet.card_start[vi] + rng.integers(0, 2, size=t)
    key = np.where(is_card, card_key, np.where(is_fob, fob_key, phone_key)).astype(np.int32)
    uwb = is_phone & fleet.hw_uwb[vi] & fleet.key_uwb[phone_key]
    radio = np.where(is_card, NFC, np.where(is_fob, LF, np.where(uwb, UWB, BLE))).astype(np.int8)
    return _Trips(
        vi, t0, drive_us, last_of_day, is_card, is_fob, is_phone, key, radio, card_key,
        primary_phone,
    )  # fmt: skip


def _firmware_and_clock(
    fleet: Fleet,
    day: int,
    rng: np.random.Generator,
    unknown_firmware_rate: float,
    skew_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each vehicle's firmware of the day (some on unregistered builds) and clock skew."""
    n = fleet.n
    version = fleet.version_on(day)
    unknown = rng.random(n) < unknown_firmware_rate
    n_registered = len(fleet.releases)
    version[unknown] = n_registered + rng.integers(0, len(fleet.unknown_builds), int(unknown.sum()))
    skew_us = np.where(rng.random(n) < skew_rate, rng.uniform(*m.SKEW_AHEAD_S, n) * S, 0).astype(
        np.int64
    )
    return version, skew_us


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> np.ndarray:
    low, high = bounds
    return np.exp(np.log(low) + rng.random(n) * np.log(high / low))


def _upload_delay_s(
    rng: np.random.Generator, t: int, late_rate: float, very_late_rate: float
) -> np.ndarray:
    """Seconds from a trip to its upload: usually short, some trips late or very late."""
    delay_s = np.minimum(
        np.exp(np.log(m.UPLOAD_DELAY[0]) + m.UPLOAD_DELAY[1] * rng.standard_normal(t)),
        m.UPLOAD_DELAY_CAP_S,
    )
    lateness = rng.random(t)
    late = (lateness >= very_late_rate) & (lateness < very_late_rate + late_rate)
    very_late = lateness < very_late_rate
    delay_s[late] = _log_uniform(rng, m.LATE_DELAY_S, int(late.sum()))
    delay_s[very_late] = _log_uniform(rng, m.VERY_LATE_DELAY_S, int(very_late.sum()))
    return delay_s


def _in_regression(fleet: Fleet, version: np.ndarray, trips: _Trips) -> np.ndarray:
    """Trips on the regressing release, in its region, over its radio."""
    return (
        (version[trips.vehicle] == fleet.regression_release)
        & (fleet.region[trips.vehicle] == m.REGIONS.index(m.REGRESSION_REGION))
        & (trips.radio == RADIOS.index(m.REGRESSION_RADIO))
    )


def _unlock_attempts(
    sink: _Sink,
    readings: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    trips: _Trips,
    approach: _Approach,
    regressed: np.ndarray,
) -> np.ndarray:
    """Passive entry of the phone and fob trips: detection, authentication, unlock (with
    retries, the firmware regression and time-outs) and the handle pull. Returns when the
    door opens."""
    a, ra, ka, ta = approach.trip, approach.radio, approach.key, approach.start_us
    na = len(approach)
    detected = rng.random(na) < m.KEY_DETECTED_SHARE
    d_idx = a[detected]
    d_radio = np.where(ra[detected] == LF, LF, BLE).astype(np.int8)
    d_rssi, _ = _radio_signal(rng, d_radio, -82.0, (0.0, 0.0))
    sink.add(
        d_idx,
        ta[detected] - _seconds_us(rng, 1.0, 15.0, len(d_idx)),
        KEY_DETECTED,
        key=ka[detected],
        radio=d_radio,
        rssi=d_rssi,
    )
    rssi, dist = _radio_signal(rng, ra, -62.0, (0.9, 1.5))
    sink.add(a, ta, UNLOCK_ZONE_ENTERED, key=ka, radio=ra, rssi=rssi, distance=dist)
    readings.append((a[trips.is_fob[a]], ta[trips.is_fob[a]]))

    base_ms = _lognormal_ms(rng, _LAT_MEDIAN[ra], _LAT_SIGMA[ra], na)
    retry = rng.random(na) < _RETRY[ra]
    retry_ms = np.where(retry, _lognormal_ms(rng, m.RETRY_DELAY[0], m.RETRY_DELAY[1], na), 0.0)
    slow = regressed & (rng.random(na) < m.REGRESSION_SHARE)
    regression_ms = np.where(
        slow, _lognormal_ms(rng, m.REGRESSION_DELAY[0], m.REGRESSION_DELAY[1], na), 0.0
    )
    latency_ms = base_ms + retry_ms + regression_ms
    timeout = rng.random(na) < _TIMEOUT[ra]
    ok = ~timeout

    auth_rssi, auth_dist = _radio_signal(rng, ra, -60.0, (0.5, 1.4))
    failed_first = ok & retry
    sink.add(
        a[failed_first],
        ta[failed_first] + _us(0.5 * retry_ms[failed_first] + 0.5 * base_ms[failed_first]),
        AUTH_FAILED,
        key=ka[failed_first],
        radio=ra[failed_first],
        rssi=auth_rssi[failed_first],
        distance=auth_dist[failed_first],
        detail=np.where(rng.random(int(failed_first.sum())) < 0.7, 0, 1),
    )
    auth_ms = latency_ms - rng.uniform(0.1, 0.3, na) * base_ms
    unlock_us = ta + _us(latency_ms)
    sink.add(
        a[ok],
        ta[ok] + _us(auth_ms[ok]),
        AUTH_SUCCEEDED,
        key=ka[ok],
        radio=ra[ok],
        rssi=auth_rssi[ok],
        distance=auth_dist[ok],
    )
    sink.add(a[ok], unlock_us[ok], DOOR_UNLOCKED, key=ka[ok], radio=ra[ok], lock=PASSIVE)
    _timeouts(sink, rng, trips, approach, np.nonzero(timeout)[0], unlock_us, auth_rssi, auth_dist)

    handle_us = ta + _us(_lognormal_ms(rng, *m.HANDLE_REACH, na))
    sink.add(a, handle_us, HANDLE_PULLED)
    return np.maximum(unlock_us, handle_us) + _seconds_us(rng, 0.2, 0.8, na)


def _timeouts(
    sink: _Sink,
    rng: np.random.Generator,
    trips: _Trips,
    approach: _Approach,
    to: np.ndarray,
    unlock_us: np.ndarray,
    auth_rssi: np.ndarray,
    auth_dist: np.ndarray,
) -> None:
    """Timed-out attempts: authentication fails, then a very late passive unlock, the app or
    a card tap unlocks (written into unlock_us)."""
    a, ra, ka, ta = approach.trip, approach.radio, approach.key, approach.start_us
    sink.add(
        a[to],
        ta[to] + _seconds_us(rng, 1.0, 8.0, len(to)),
        AUTH_FAILED,
        key=ka[to],
        radio=ra[to],
        rssi=auth_rssi[to],
        distance=auth_dist[to],
        detail=_pick(rng, m.AUTH_FAILED_DETAIL, len(to)),
    )
    fallback = _pick(rng, m.TIMEOUT_FALLBACK, len(to))
    late_passive, via_app, via_card = (to[fallback == i] for i in range(3))
    unlock_us[late_passive] = ta[late_passive] + _seconds_us(rng, 31.0, 90.0, len(late_passive))
    sink.add(
        a[late_passive],
        unlock_us[late_passive] - 100 * MS,
        AUTH_SUCCEEDED,
        key=ka[late_passive],
        radio=ra[late_passive],
        rssi=auth_rssi[late_passive],
        distance=auth_dist[late_passive],
    )
    sink.add(
        a[late_passive],
        unlock_us[late_passive],
        DOOR_UNLOCKED,
        key=ka[late_passive],
        radio=ra[late_passive],
        lock=PASSIVE,
    )
    unlock_us[via_app] = ta[via_app] + _seconds_us(rng, 12.0, 45.0, len(via_app))
    sink.add(
        a[via_app], unlock_us[via_app], DOOR_UNLOCKED, key=trips.primary_phone[a[via_app]], lock=APP
    )
    tap_us = ta[via_card] + _seconds_us(rng, 10.0, 40.0, len(via_card))
    card_of = trips.card_key[a[via_card]]
    sink.add(a[via_card], tap_us, NFC_TAPPED, key=card_of, radio=NFC)
    unlock_us[via_card] = tap_us + _us(_lognormal_ms(rng, *m.CARD_LATENCY, len(via_card)))
    sink.add(
        a[via_card], unlock_us[via_card], DOOR_UNLOCKED, key=card_of, radio=NFC, lock=CARD_LOCK
    )


def _card_unlocks(
    sink: _Sink, rng: np.random.Generator, trips: _Trips, c: np.ndarray
) -> np.ndarray:
    """Key-card trips: a tap (a second one after a misread) unlocks; returns the unlock time."""
    nc = len(c)
    kc = trips.key[c]
    t0 = trips.start_us
    sink.add(c, t0[c], NFC_TAPPED, key=kc, radio=NFC)
    misread = rng.random(nc) < m.CARD_MISREAD_SHARE
    second_tap = t0[c] + _seconds_us(rng, 1.5, 4.0, nc)
    sink.add(c[misread], second_tap[misread], NFC_TAPPED, key=kc[misread], radio=NFC)
    card_unlock = np.where(misread, second_tap, t0[c]) + _us(
        _lognormal_ms(rng, *m.CARD_LATENCY, nc)
    )
    sink.add(c, card_unlock, DOOR_UNLOCKED, key=kc, radio=NFC, lock=CARD_LOCK)
    return card_unlock


def _doors_and_drive(
    sink: _Sink,
    rng: np.random.Generator,
    trips: _Trips,
    approach: _Approach,
    opened_us: np.ndarray,
    c: np.ndarray,
    card_unlock: np.ndarray,
) -> np.ndarray:
    """Doors of every trip, the drive-away lock and the arrival; returns when it is parked."""
    t = len(trips.vehicle)
    opened = np.empty(t, dtype=np.int64)
    opened[approach.trip] = opened_us
    opened[c] = card_unlock + _seconds_us(rng, 0.5, 2.0, len(c))
    everyone = np.arange(t)
    sink.add(everyone, opened, DOOR_OPENED)
    closed = opened + _us(_lognormal_ms(rng, 8000.0, 0.5, t))
    sink.add(everyone, closed, DOOR_CLOSED)
    drive_away = rng.random(t) < m.DRIVE_AWAY_LOCK_SHARE
    sink.add(
        everyone[drive_away],
        closed[drive_away] + _seconds_us(rng, 5.0, 40.0, int(drive_away.sum())),
        DOOR_LOCKED,
        lock=DRIVE_AWAY,
    )
    arrived = closed + 40 * S + trips.drive_us
    sink.add(everyone, arrived, DOOR_OPENED)
    parked = arrived + _seconds_us(rng, 2.0, 10.0, t)
    sink.add(everyone, parked, DOOR_CLOSED)
    return parked


def _card_lock_taps(
    sink: _Sink, rng: np.random.Generator, trips: _Trips, c: np.ndarray, parked: np.ndarray
) -> None:
    """Key-card trips end with a tap to lock."""
    nc = len(c)
    kc = trips.key[c]
    _tap_to_lock(sink, rng, c, parked[c] + _seconds_us(rng, 3.0, 10.0, nc), kc)


def _tap_to_lock(
    sink: _Sink, rng: np.random.Generator, trips: np.ndarray, tap_us: np.ndarray, card: np.ndarray
) -> None:
    """A key-card tap, then the doors lock after the card reader's latency."""
    sink.add(trips, tap_us, NFC_TAPPED, key=card, radio=NFC)
    locked_us = tap_us + _us(_lognormal_ms(rng, *m.CARD_LATENCY, len(trips)))
    sink.add(trips, locked_us, DOOR_LOCKED, key=card, radio=NFC, lock=CARD_LOCK)


@dataclass
class _WalkawayOutcomes:
    """What happens after the key leaves the lock zone, one mask per outcome."""

    disabled: np.ndarray
    home: np.ndarray
    key_inside: np.ndarray
    door_ajar: np.ndarray
    manual: np.ndarray
    reentry: np.ndarray
    nothing: np.ndarray
    locks: np.ndarray


def _walkaway_outcomes(
    rng: np.random.Generator, fleet: Fleet, trips: _Trips, approach: _Approach
) -> _WalkawayOutcomes:
    va = trips.vehicle[approach.trip]
    na = len(approach)
    u = rng.random(na)
    disabled = fleet.feature_disabled[va]
    home = (
        ~disabled
        & fleet.home_exclusion[va]
        & trips.last_of_day[approach.trip]
        & (rng.random(na) < m.HOME_ARRIVAL_SUPPRESS_SHARE)
    )
    free = ~disabled & ~home
    shares = (
        m.KEY_INSIDE_SHARE,
        m.DOOR_AJAR_SHARE,
        m.MANUAL_LOCK_SHARE,
        m.REENTRY_SHARE,
        m.NOTHING_SHARE,
    )
    outcome = np.searchsorted(np.cumsum(shares), u, side="right")  # 0..4 as listed, 5 = lock
    key_inside, door_ajar, manual, reentry, nothing, locks = (
        free & (outcome == i) for i in range(6)
    )
    return _WalkawayOutcomes(disabled, home, key_inside, door_ajar, manual, reentry, nothing, locks)


def _walkaway_episodes(
    sink: _Sink,
    readings: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    fleet: Fleet,
    trips: _Trips,
    approach: _Approach,
    parked: np.ndarray,
) -> None:
    """Phone and fob trips: the key leaves the lock zone, then the car locks itself, is
    suppressed (with a reason), is locked by hand, sees the key come back, or stays open."""
    a, ra, ka = approach.trip, approach.radio, approach.key
    na = len(approach)
    exit_us = parked + _seconds_us(rng, 2.0, 6.0, na)
    rssi, dist = _radio_signal(rng, ra, -78.0, (3.0, 3.6))
    sink.add(a, exit_us, LOCK_ZONE_EXITED, key=ka, radio=ra, rssi=rssi, distance=dist)
    readings.append((a[trips.is_fob[a]], exit_us[trips.is_fob[a]]))

    outcome = _walkaway_outcomes(rng, fleet, trips, approach)
    suppressed = outcome.disabled | outcome.home | outcome.key_inside | outcome.door_ajar
    reason = np.select(
        [outcome.key_inside, outcome.door_ajar, outcome.home, outcome.disabled],
        [DETAILS.index(r) for r in SUPPRESSION_REASONS],
        default=-1,
    )
    s_idx = np.nonzero(suppressed)[0]
    sink.add(
        a[s_idx],
        exit_us[s_idx] + _seconds_us(rng, 0.3, 1.5, len(s_idx)),
        WALKAWAY_SUPPRESSED,
        key=ka[s_idx],
        radio=ra[s_idx],
        detail=reason[s_idx],
    )

    ttl_ms = _lognormal_ms(rng, _TTL_MEDIAN[ra], _TTL_SIGMA[ra], na)
    ttl_ms += np.where(rng.random(na) < m.LOCK_LATE_SHARE, rng.uniform(5000.0, 40000.0, na), 0.0)
    l_idx = np.nonzero(outcome.locks)[0]
    sink.add(
        a[l_idx], exit_us[l_idx] + _us(ttl_ms[l_idx]), DOOR_LOCKED,
        key=ka[l_idx], radio=ra[l_idx], lock=WALKAWAY,
    )  # fmt: skip
    _manual_locks(sink, readings, rng, trips, approach, np.nonzero(outcome.manual)[0], exit_us)
    _reentries(sink, rng, approach, np.nonzero(outcome.reentry)[0], exit_us, ttl_ms, rssi, dist)

    # nothing locks within 600 s; half of the owners lock from the app later
    n_idx = np.nonzero(outcome.nothing & (rng.random(na) < m.REMOTE_LOCK_SHARE))[0]
    sink.add(
        a[n_idx],
        exit_us[n_idx] + _seconds_us(rng, 660.0, 900.0, len(n_idx)),
        DOOR_LOCKED,
        key=trips.primary_phone[a[n_idx]],
        lock=APP,
    )


def _manual_locks(
    sink: _Sink,
    readings: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    trips: _Trips,
    approach: _Approach,
    m_idx: np.ndarray,
    exit_us: np.ndarray,
) -> None:
    """A manual lock before walk-away fires: key card, phone app or fob button."""
    a, ka = approach.trip, approach.key
    manual_us = exit_us[m_idx] + _seconds_us(rng, 1.0, 4.0, len(m_idx))
    by_card = rng.random(len(m_idx)) < m.MANUAL_LOCK_CARD_SHARE
    mc = m_idx[by_card]
    _tap_to_lock(sink, rng, a[mc], manual_us[by_card], trips.card_key[a[mc]])
    for source, mask in ((APP, trips.is_phone[a[m_idx]]), (FOB_BUTTON, trips.is_fob[a[m_idx]])):
        chosen = ~by_card & mask
        sink.add(
            a[m_idx[chosen]], manual_us[chosen], DOOR_LOCKED, key=ka[m_idx[chosen]], lock=source
        )
    if len(m_idx):
        by_fob = ~by_card & trips.is_fob[a[m_idx]]
        readings.append((a[m_idx[by_fob]], manual_us[by_fob]))


def _reentries(
    sink: _Sink,
    rng: np.random.Generator,
    approach: _Approach,
    r_idx: np.ndarray,
    exit_us: np.ndarray,
    ttl_ms: np.ndarray,
    rssi: np.ndarray,
    dist: np.ndarray,
) -> None:
    """The key comes back into the lock zone and leaves again, then the car locks."""
    a, ra, ka = approach.trip, approach.radio, approach.key
    again = exit_us[r_idx] + _seconds_us(rng, 20.0, 300.0, len(r_idx))
    sink.add(
        a[r_idx], again, LOCK_ZONE_EXITED, key=ka[r_idx], radio=ra[r_idx],
        rssi=rssi[r_idx], distance=dist[r_idx],
    )  # fmt: skip
    sink.add(
        a[r_idx], again + _us(ttl_ms[r_idx]), DOOR_LOCKED,
        key=ka[r_idx], radio=ra[r_idx], lock=WALKAWAY,
    )  # fmt: skip


def _battery_readings(
    fleet: Fleet,
    rng: np.random.Generator,
    day: int,
    trip_vehicle: np.ndarray,
    trip_key: np.ndarray,
    trips: np.ndarray,
    t_us: np.ndarray,
) -> dict[str, np.ndarray]:
    """Loaded cell voltage and outside temperature each time a fob talks to its car."""
    n = len(trips)
    vehicle = trip_vehicle[trips]
    fob = trip_key[trips]
    day_start_us = np.datetime64(fleet.start_date, "D").astype("datetime64[us]").astype(np.int64)
    elapsed_days = (t_us - day_start_us) / DAY_US
    soc = np.maximum(fleet.soc0[fob] - fleet.soc_per_day[fob] * elapsed_days, m.MIN_SOC)
    plateau = m.PLATEAU_END_MV + (m.FRESH_MV - m.PLATEAU_END_MV) * (soc - m.KNEE_SOC) / (
        1.0 - m.KNEE_SOC
    )
    knee = (
        m.PLATEAU_END_MV
        - m.KNEE_DROP_MV * (np.clip(m.KNEE_SOC - soc, 0.0, None) / m.KNEE_SOC) ** 1.5
    )
    open_mv = np.where(soc >= m.KNEE_SOC, plateau, knee)

    region = fleet.region[vehicle]
    utc_days = t_us / DAY_US
    day_of_year = utc_days % 365.25  # days since 1 January (epoch), good enough for seasons
    local_hour = ((t_us // 3_600_000_000) + fleet.tz_hours[vehicle]) % 24
    temp = (
        np.array(m.REGION_TEMP_MEAN)[region]
        + np.array(m.REGION_TEMP_AMPLITUDE)[region]
        * np.cos(2 * np.pi * (day_of_year - 200) / 365.25)
        + m.DIURNAL_TEMP_AMPLITUDE * np.cos(2 * np.pi * (local_hour - 15) / 24)
        + fleet.temp_offset[vehicle]
        + rng.normal(0.0, m.READING_TEMP_SD, n)
    )
    temp = np.clip(np.round(temp, 1), -39.9, 59.9)
    voltage = (
        open_mv - m.TEMP_COEFF_MV_PER_C * (25.0 - temp) + rng.normal(0.0, m.VOLTAGE_NOISE_MV, n)
    )
    reported_temp = np.where(rng.random(n) < m.TEMP_MISSING_SHARE, np.nan, temp)
    return {
        "trip": trips.astype(np.int32),
        "vehicle": vehicle.astype(np.int32),
        "key": fob.astype(np.int32),
        "t_us": t_us.astype(np.int64),
        "voltage": np.clip(np.round(voltage), 1850, 3350).astype(np.int16),
        "temperature": reported_temp.astype(np.float32),
    }
