{#-
    Every dropped copy of a fob battery reading whose reading_id is kept once
    already (a repeated upload), so conservation can account for it.
-#}

{{ access_analytics.raw_rows_with_status('fob_battery_readings', 'duplicate') }}
