{#-
    Every dropped copy of an access event whose event_id is kept once already (a
    repeated upload), so conservation can account for it.
-#}

{{ access_analytics.raw_rows_with_status('access_events', 'duplicate') }}
