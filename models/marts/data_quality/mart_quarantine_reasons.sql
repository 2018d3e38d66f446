{#- Quarantined rows per raw telemetry table, ingest day and reason (only reasons that occurred). -#}

with

raw_rows as (select * from {{ ref('int_raw_rows_unioned') }}),

final as (

    select
        table_name,
        ingest_date,
        quarantine_reason as reason,
        count(*) as rows
    from raw_rows
    where row_status = 'quarantined'
    group by table_name, ingest_date, quarantine_reason

)

select * from final
