{#- Quarantined rows per raw telemetry table, ingest day and reason (only reasons that occurred). -#}

with

event_quarantine as (select * from {{ ref('stg_raw__access_events_quarantine') }}),

reading_quarantine as (select * from {{ ref('stg_raw__fob_battery_readings_quarantine') }}),

final as (

    select
        'access_events' as table_name,
        ingest_date,
        quarantine_reason as reason,
        count(*) as rows
    from event_quarantine
    group by ingest_date, quarantine_reason
    union all
    select
        'fob_battery_readings' as table_name,
        ingest_date,
        quarantine_reason as reason,
        count(*) as rows
    from reading_quarantine
    group by ingest_date, quarantine_reason

)

select * from final
