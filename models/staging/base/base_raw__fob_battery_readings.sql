{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    Every raw fob battery reading of the ingest window, read once, typed and
    validated, with its source file and row (copies share their reading_id): as
    base_raw__access_events is for access events.
-#}

{{ access_analytics.raw_telemetry_rows('fob_battery_readings', 'reading_id') }}
