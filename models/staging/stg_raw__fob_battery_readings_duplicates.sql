{#- Every dropped copy of a fob battery reading whose reading_id is kept once already (a repeated upload), so conservation can account for it. -#}

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
    where row_status = 'duplicate'

)

select * from final
