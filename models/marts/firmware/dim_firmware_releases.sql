{#- One row per firmware version of the newest release registry, with its predecessor. -#}

with

releases as (select * from {{ ref('int_firmware_releases_ordered') }}),

first_seen as (select * from {{ ref('int_firmware_versions_first_seen') }}),

final as (

    select
        releases.firmware_version,
        releases.released_on,
        releases.channel,
        releases.predecessor_version,
        first_seen.first_seen_on
    from releases
    left join first_seen
        on releases.firmware_version = first_seen.firmware_version

)

select * from final
