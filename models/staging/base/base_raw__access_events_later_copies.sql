{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    The valid raw access events that are not the copy of their event_id to keep
    (earliest received_at, then smallest file path, then earliest row), with
    the ingest day, file key and row the staging models join on to tell kept
    events from duplicates.
    Ranked here, over the few columns the ranking needs, rather than inside the
    one wide read of base_raw__access_events. Incremental by ingest partition:
    a run ranks the copies of every id found in the re-read partitions.
-#}

{{ access_analytics.raw_later_copies('access_events', 'event_id') }}
