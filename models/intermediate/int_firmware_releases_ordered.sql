{#-
    The firmware registry with each version's predecessor: the registry
    version with the latest strictly earlier released_on, whatever its
    channel (docs/metrics.md#firmware-release-health). Versions released on the same day
    share one predecessor; if several versions tie for the latest earlier
    day, the numerically highest version among them is taken, so the choice
    is deterministic and never depends on string order.
-#}

with

releases as (select * from {{ ref('stg_raw__firmware_releases') }}),

parsed as (

    select
        version,
        released_on,
        channel,
        {{ access_analytics.safe_cast("split_part(version, '.', 1)", 'integer') }} as version_year,
        {{ access_analytics.safe_cast("split_part(version, '.', 2)", 'integer') }} as version_week,
        {{ access_analytics.safe_cast("split_part(version, '.', 3)", 'integer') }} as version_patch
    from releases

),

release_days as (

    select
        released_on,
        lag(released_on) over (order by released_on) as previous_release_day
    from (select distinct released_on from parsed) as distinct_days

),

newest_of_day as (

    select
        version,
        released_on,
        row_number() over (
            partition by released_on
            order by version_year desc, version_week desc, version_patch desc, version desc
        ) as rank_in_day
    from parsed

),

final as (

    select
        parsed.version as firmware_version,
        parsed.released_on,
        parsed.channel,
        predecessor.version as predecessor_version,
        predecessor.released_on as predecessor_released_on
    from parsed
    inner join release_days
        on parsed.released_on = release_days.released_on
    left join newest_of_day as predecessor
        on
            release_days.previous_release_day = predecessor.released_on
            and predecessor.rank_in_day = 1

)

select * from final
