{{ access_analytics.assert_raw_table_matches_contract('vehicles') }}

{#- The vehicle registry as of its newest snapshot (older snapshots are history, not truth). -#}

with

source as (select * from {{ source('raw', 'vehicles') }}),

final as (

    select
        {{ access_analytics.typed_raw_columns('vehicles', strict=true) }},
        cast(snapshot_date as date) as snapshot_date
    from source
    where cast(snapshot_date as date) = (select max(cast(snapshot_date as date)) from source)

)

select * from final
