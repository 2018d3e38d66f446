{#-
    Valid fob battery readings, typed, one row per reading_id: the earliest-
    received copy of each.
-#}

{{ access_analytics.raw_rows_with_status('fob_battery_readings', 'kept') }}
