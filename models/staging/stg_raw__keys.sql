{#- The key registry as of its newest snapshot. -#}
{{ access_analytics.assert_raw_table_matches_contract('keys', 'snapshot_date') }}

with

source as (

    select * from {{ source('raw', 'keys') }}

),

newest_snapshot as (

    select max(cast(snapshot_date as date)) as snapshot_date from source

),

final as (

    select
        source.key_id,
        source.vin,
        source.key_type,
        cast(source.paired_at as {{ access_analytics.timestamp_type() }}) as paired_at,
        source.cell_lot,
        newest_snapshot.snapshot_date
    from source
    inner join newest_snapshot
        on cast(source.snapshot_date as date) = newest_snapshot.snapshot_date

)

select * from final
