{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    Every raw access event of the ingest window, read once: typed to the contract,
    with its source file and row and the first contract rule it breaks
    (quarantine_reason); copies share their event_id. Which copy is kept is ranked
    next, in base_raw__access_events_later_copies. The kept, duplicate and quarantine
    staging models select from both. Incremental by ingest partition: a run
    re-reads the partitions from the lookback cutoff on and replaces them. The
    lake is checked against the raw contract first, and every file of those
    partitions decoded, one by one.
-#}

{{ access_analytics.raw_telemetry_rows('access_events', 'event_id') }}
