{#- Every dropped copy of an access event whose event_id is kept once already (a repeated upload), so conservation can account for it. -#}

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
    where row_status = 'duplicate'

)

select * from final
