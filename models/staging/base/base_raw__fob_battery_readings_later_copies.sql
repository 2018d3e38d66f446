{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    The valid raw fob battery readings that are not the copy of their reading_id
    to keep: as base_raw__access_events_later_copies is for access events.
-#}

{{ access_analytics.raw_later_copies('fob_battery_readings', 'reading_id') }}
