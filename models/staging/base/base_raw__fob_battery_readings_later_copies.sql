{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    The valid raw fob battery readings that are not the copy of their reading_id to keep
    (earliest received_at, then smallest file path, then earliest row), by file,
    row and id: the staging models tell kept readings from duplicates with it.
    Ranked here, over the few columns the ranking needs, rather than inside the
    one wide read of base_raw__fob_battery_readings. Incremental by ingest partition:
    a run ranks the copies of every id found in the re-read partitions.
-#}

{{ access_analytics.raw_later_copies('fob_battery_readings', 'reading_id') }}
