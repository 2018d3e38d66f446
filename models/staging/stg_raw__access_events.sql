{#- Valid access events, typed, one row per event_id: the earliest-received copy of each. -#}

{{ access_analytics.raw_rows_with_status('access_events', 'kept') }}
