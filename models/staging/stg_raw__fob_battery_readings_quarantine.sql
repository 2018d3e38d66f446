{#-
    Every raw fob battery reading that breaks the raw contract, with the first
    rule it breaks; values that do not fit their contract type are null.
-#}

{{ access_analytics.raw_rows_with_status('fob_battery_readings', 'quarantined') }}
