{{ access_analytics.assert_raw_table_matches_contract('firmware_releases') }}

{#- The firmware release registry as of its newest snapshot. -#}

with

source as (select * from {{ source('raw', 'firmware_releases') }}),

final as (

    select
        {{ access_analytics.typed_raw_columns('firmware_releases', strict=true) }},
        cast(snapshot_date as date) as snapshot_date
    from source
    where cast(snapshot_date as date) = (select max(cast(snapshot_date as date)) from source)

)

select * from final
