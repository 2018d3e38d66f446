{#- Valid access events, typed, one row per event_id: the earliest-received copy of each. -#}

with

base as (

    select * from {{ ref('base_raw__access_events') }}

),

final as (

    select
        {{ access_analytics.raw_column_list('access_events') }},
        ingest_date,
        source_file
    from base
    where row_status = 'kept'

)

select * from final
