{#- Every raw fob battery reading that breaks the raw contract, with the first rule it breaks; values that do not fit their contract type are null. -#}

with

base as (

    select * from {{ ref('base_raw__fob_battery_readings') }}

),

final as (

    select
        {{ access_analytics.raw_column_list('fob_battery_readings') }},
        ingest_date,
        source_file,
        source_row_number,
        quarantine_reason
    from base
    where row_status = 'quarantined'

)

select * from final
