{{ config(materialized='incremental', unique_key='ingest_date') }}

{#-
    Every raw access event of the ingest window, read once: typed to the contract,
    with its source file, the first contract rule it breaks (quarantine_reason)
    and what became of it (row_status: kept, duplicate or quarantined); copies
    share their event_id. The kept, duplicate and quarantine staging models select
    from here. Incremental by ingest partition: a run re-reads the partitions
    from the lookback cutoff on and replaces them. The lake is checked against the
    raw contract first, and every file of those partitions decoded, one by one.
-#}

{{ access_analytics.raw_telemetry_rows('access_events', 'event_id') }}
