"""Behaviour parameters of the simulated fleet.

Every number the generator uses to shape the data lives here, next to the reason it has
that value. docs/generator.md explains the same parameters for readers of the dashboards.
The values are plausible engineering estimates for a passive-entry system (phone keys over
BLE and UWB, low-frequency fobs, NFC key cards); none of them is a measurement of a real fleet.
"""

from __future__ import annotations

# --- registry vocabularies (the raw contract) --------------------------------------------
MODELS = ("Model 3", "Model Y", "Model S", "Model X", "Cybertruck")
# Fleet mix: the two volume models dominate, the premium models and the truck are niche.
MODEL_WEIGHTS = (0.35, 0.45, 0.07, 0.07, 0.06)
# Position 4 of the VIN (line code) per model.
MODEL_VIN_CODE = ("3", "Y", "S", "X", "C")

REGIONS = ("NA", "EU", "APAC", "CN")
REGION_WEIGHTS = (0.40, 0.30, 0.15, 0.15)
# World manufacturer identifier per region (plant of origin).
REGION_WMI = ("5YJ", "XP7", "LRW", "LRW")
# Local-time offsets (hours, DST ignored) and their weights per region: the daily rhythm is
# local, so a UTC day blends the peaks of several time zones.
REGION_TZ = (
    ((-5.0, 0.40), (-6.0, 0.20), (-7.0, 0.15), (-8.0, 0.25)),
    ((1.0, 0.70), (0.0, 0.15), (2.0, 0.15)),
    ((8.0, 0.30), (9.0, 0.35), (10.0, 0.35)),
    ((8.0, 1.0),),
)
# Climate per region: annual mean and seasonal amplitude (deg C) of the outside temperature,
# peaking in late July (northern hemisphere; APAC is a mix, hence the small amplitude).
REGION_TEMP_MEAN = (12.0, 10.0, 20.0, 14.0)
REGION_TEMP_AMPLITUDE = (12.0, 9.0, 4.0, 13.0)
DIURNAL_TEMP_AMPLITUDE = 4.0  # warmest mid-afternoon
VEHICLE_TEMP_SD = 2.5  # microclimate of where a car lives and parks
READING_TEMP_SD = 1.5
TEMP_MISSING_SHARE = 0.02  # outside-temperature sensor not yet available after wake-up

# access hardware: cars delivered in the last 30 months mostly have UWB anchors; older ones
# are BLE-only. The Cybertruck always has UWB.
UWB_RECENT_DAYS = 912
UWB_SHARE_RECENT = 0.92
UWB_SHARE_OLD = 0.10
FLEET_AGE_DAYS = 6 * 365  # oldest delivery, counted back from the start date

# --- keys --------------------------------------------------------------------------------
PHONES_PER_VEHICLE = ((1, 0.55), (2, 0.35), (3, 0.10))
CARDS_PER_VEHICLE = 2  # every car ships with two key cards
FOB_OWNER_SHARE = 0.40  # fobs are an optional accessory
SECOND_FOB_SHARE = 0.20
PHONE_UWB_CAPABLE_SHARE = 0.85  # older phones range over BLE only
PRIMARY_PHONE_SHARE = 0.75  # the main driver's phone is used for most trips
# How often a fob owner uses the fob rather than a phone (uniform between the two bounds).
FOB_PREFERENCE = (0.30, 0.90)

# --- daily rhythm --------------------------------------------------------------------------
# Trips per vehicle and day (each phone/fob trip = one passive-entry attempt and one
# walk-away episode): 3-6, a little fewer on weekends.
TRIPS_WEEKDAY = ((3, 0.25), (4, 0.35), (5, 0.25), (6, 0.15))
TRIPS_WEEKEND = ((3, 0.35), (4, 0.35), (5, 0.20), (6, 0.10))
# Relative weight of a trip starting in each local hour: commute peaks on weekdays, a broad
# late-morning to afternoon hump on weekends.
HOURLY_WEEKDAY = (
    0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 3.0, 6.5, 7.5, 4.0, 3.0, 3.5,
    4.5, 4.0, 3.5, 4.5, 6.5, 7.5, 5.5, 4.0, 3.0, 2.0, 1.2, 0.6,
)  # fmt: skip
HOURLY_WEEKEND = (
    0.4, 0.3, 0.2, 0.1, 0.1, 0.3, 0.8, 1.5, 3.0, 4.5, 5.5, 6.0,
    6.0, 5.5, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.5, 1.8, 1.2, 0.8,
)  # fmt: skip
DRIVE_MEDIAN_MIN = 17.0  # log-normal drive duration, clipped to 3..120 min
DRIVE_SIGMA = 0.6
CARD_TRIP_SHARE = 0.05  # valet, phone battery dead, shared cars

# --- passive entry (unlock attempts) ---------------------------------------------------------
# Log-normal unlock latency (median ms, sigma) per radio: UWB ranging is fastest, BLE-only
# needs RSSI averaging, the LF fob challenge is in between.
LATENCY = {"uwb": (320.0, 0.30), "ble": (650.0, 0.40), "lf": (420.0, 0.28)}
# Slow tail: the first authentication fails and is retried (auth_failed then auth_succeeded).
RETRY_SHARE = {"uwb": 0.02, "ble": 0.05, "lf": 0.03}
RETRY_DELAY = (2500.0, 0.6)  # log-normal extra ms
# Attempts that never unlock passively within 30 s.
TIMEOUT_SHARE = {"uwb": 0.005, "ble": 0.012, "lf": 0.008}
# What people do then: wait for a very late passive unlock (31-90 s), use the phone app,
# or tap the key card.
TIMEOUT_FALLBACK = (("late_passive", 0.25), ("app", 0.45), ("card", 0.30))
AUTH_FAILED_DETAIL = (("timeout", 0.60), ("bad_mac", 0.25), ("relay_suspected", 0.15))
# Time from entering the unlock zone to pulling the handle: when it comes before the
# unlock the person had to wait (handle_wait).
HANDLE_REACH = (1100.0, 0.35)
KEY_DETECTED_SHARE = 0.97  # the advert is sometimes missed before zone entry
DRIVE_AWAY_LOCK_SHARE = 0.85  # drive-away locking is enabled on most cars

# Card entry: NFC tap to unlock, with occasional misreads that need a second tap.
CARD_LATENCY = (280.0, 0.30)
CARD_MISREAD_SHARE = 0.02

# --- walk-away locking ------------------------------------------------------------------------
# Time from leaving the lock zone to the walk-away lock (log-normal median ms, sigma).
TIME_TO_LOCK = {"uwb": (1600.0, 0.30), "ble": (2400.0, 0.35), "lf": (2000.0, 0.30)}
LOCK_LATE_SHARE = 0.01  # extra 5-40 s: the key lingers at the zone boundary
FEATURE_DISABLED_SHARE = 0.03  # owners who switched walk-away lock off
# Home exclusion is configured more often where people park in their own garage; NA is the
# planted story "more home_exclusion suppressions in one region".
HOME_EXCLUSION_SHARE = {"NA": 0.45, "EU": 0.12, "APAC": 0.12, "CN": 0.12}
HOME_ARRIVAL_SUPPRESS_SHARE = 0.90  # last trip of the day ends at home
KEY_INSIDE_SHARE = 0.004
DOOR_AJAR_SHARE = 0.004
MANUAL_LOCK_SHARE = 0.02  # the person locks before walk-away fires
MANUAL_LOCK_CARD_SHARE = 0.20  # otherwise app (phone) or fob button (fob)
REENTRY_SHARE = 0.003  # comes back into the lock zone and leaves again
NOTHING_SHARE = 0.003  # key lost before exit confirmation: car stays unlocked
REMOTE_LOCK_SHARE = 0.5  # of those, the owner notices and locks from the app 11-15 min later

# --- fob battery -------------------------------------------------------------------------------
# CR2032 under transmit load: a long plateau that sags slowly, then a knee near end of life.
FRESH_MV = 3100.0
PLATEAU_END_MV = 2800.0  # at state of charge KNEE_SOC
KNEE_SOC = 0.15
KNEE_DROP_MV = 800.0  # extra drop from the knee to an empty cell
MIN_SOC = 0.01
CELL_LIFE_DAYS = (500.0, 80.0)  # mean and sd of a normal cell's life
# Loaded voltage falls in the cold; this matches the compensation in the metric definitions
# (voltage_comp_mv = voltage_mv + 1.5 x (25 - temperature_c)).
TEMP_COEFF_MV_PER_C = 1.5
VOLTAGE_NOISE_MV = 12.0
FAST_LOT_DRAIN_FACTOR = 3.5  # planted story: one coin-cell lot drains 3-4x faster
LOT_LETTERS = ("A", "B")

# --- firmware ------------------------------------------------------------------------------------
PRODUCTION_CADENCE_DAYS = 14
FIRST_RELEASE_DAY = 3
EARLY_ACCESS_OFFSET_DAYS = 7
PRE_WINDOW_RELEASE_DAYS = (-40, -26, -12)
# Versions the fleet runs on the first day: chronically offline cars lag two releases and
# never update; a few lag one release and catch up with the next rollout.
INITIAL_OLDEST_SHARE = 0.02
INITIAL_PREVIOUS_SHARE = 0.03
EARLY_ACCESS_SHARE = 0.03
# Staged rollout: share of the (non early-access) fleet on a new version by days after its
# release. Vehicles are ranked within strata of region x access_hw x fob ownership, so every
# stage has the fleet's mix and a release is compared with its predecessor like for like.
ROLLOUT_DAYS = (0.0, 1.0, 3.0, 6.0, 9.0, 12.0, 16.0, 21.0)
ROLLOUT_SHARE = (0.0, 0.01, 0.05, 0.25, 0.60, 0.85, 0.97, 1.0)
# Planted regression: on one production release, EU cars with UWB fall back to a second
# ranging session on part of their attempts (a region-specific UWB channel configuration).
REGRESSION_REGION = "EU"
REGRESSION_RADIO = "uwb"
REGRESSION_SHARE = 0.45
REGRESSION_DELAY = (1300.0, 0.35)  # log-normal extra ms
UNKNOWN_BUILD_PATCH_BASE = 100  # service builds carry patch numbers the registry never uses

# --- upload path ---------------------------------------------------------------------------------
UPLOAD_DELAY = (15.0, 1.2)  # log-normal seconds for a connected car, capped below 50 min
UPLOAD_DELAY_CAP_S = 3000.0
LATE_DELAY_S = (3600.0, 86400.0)  # 1-24 h late: parked without signal (log-uniform)
VERY_LATE_DELAY_S = (86400.0 * 1.05, 86400.0 * 12)  # 1-12 days late (log-uniform)
EVENT_JITTER_S = 1.5  # exponential per-event spread inside one upload batch
SKEW_AHEAD_S = (20.0, 290.0)  # vehicle clock ahead, still within the 5 min tolerance
# Duplicate copies: identical retransmit in the same batch, a re-send minutes later, or a
# retry after a failed acknowledgement that lands in a later ingest partition.
DUPLICATE_KINDS = (("same_batch", 0.30), ("resend", 0.45), ("later_partition", 0.25))
