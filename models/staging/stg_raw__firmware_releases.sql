{#- The firmware release registry as of its newest snapshot. -#}
{{ access_analytics.assert_raw_table_matches_contract('firmware_releases', 'snapshot_date') }}

with

source as (

    select * from {{ source('raw', 'firmware_releases') }}

),

newest_snapshot as (

    select max(cast(snapshot_date as date)) as snapshot_date from source

),

final as (

    select
        source.version,
        cast(source.released_on as date) as released_on,
        source.channel,
        newest_snapshot.snapshot_date
    from source
    inner join newest_snapshot
        on cast(source.snapshot_date as date) = newest_snapshot.snapshot_date

)

select * from final
