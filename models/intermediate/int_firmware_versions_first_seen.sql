{{ config(materialized='incremental', unique_key='firmware_version') }}

{#-
    The first UTC day each firmware version appears in kept access events
    (docs/metrics.md#firmware-release-health: the start of its comparison window).
    Incremental: the minimum over the rows ingested since the watermark is
    merged with the stored minimum, so a late event can still move the day
    earlier.
-#}

with

events as (select * from {{ ref('stg_raw__access_events') }}),

new_rows as (

    select
        firmware_version,
        min(cast(event_at as date)) as first_seen_on,
        max(ingest_date) as source_ingest_date
    from events
    {% if is_incremental() %}
    where ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
    {% endif %}
    group by firmware_version

),

candidates as (

    select * from new_rows
    {% if is_incremental() %}
    union all
    select
        firmware_version,
        first_seen_on,
        source_ingest_date
    from {{ this }}
    where firmware_version in (select firmware_version from new_rows)
    {% endif %}

),

final as (

    select
        firmware_version,
        min(first_seen_on) as first_seen_on,
        max(source_ingest_date) as source_ingest_date
    from candidates
    group by firmware_version

)

select * from final
