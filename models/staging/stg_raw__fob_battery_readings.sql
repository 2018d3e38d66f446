{#- Valid fob battery readings, typed, one row per reading_id: the earliest-received copy of each. -#}

with

base as (

    select * from {{ ref('base_raw__fob_battery_readings') }}

),

final as (

    select
        {{ access_analytics.raw_column_list('fob_battery_readings') }},
        ingest_date,
        source_file
    from base
    where row_status = 'kept'

)

select * from final
