{#- The vehicle registry as of its newest snapshot (older snapshots are history, not truth). -#}
{{ access_analytics.assert_raw_table_matches_contract('vehicles', 'snapshot_date') }}

with

source as (

    select * from {{ source('raw', 'vehicles') }}

),

newest_snapshot as (

    select max(cast(snapshot_date as date)) as snapshot_date from source

),

final as (

    select
        source.vin,
        source.model,
        source.access_hw,
        source.region,
        cast(source.delivered_on as date) as delivered_on,
        newest_snapshot.snapshot_date
    from source
    inner join newest_snapshot
        on cast(source.snapshot_date as date) = newest_snapshot.snapshot_date

)

select * from final
