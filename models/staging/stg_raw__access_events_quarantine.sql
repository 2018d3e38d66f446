{#- Every raw access event that breaks the raw contract, with the first rule it breaks; values that do not fit their contract type are null. -#}

with

base as (

    select * from {{ ref('base_raw__access_events') }}

),

final as (

    select
        {{ access_analytics.raw_column_list('access_events') }},
        ingest_date,
        source_file,
        source_row_number,
        quarantine_reason
    from base
    where row_status = 'quarantined'

)

select * from final
