{{ config(severity=var('registry_snapshot_severity', 'warn'), store_failures=true) }}

{#-
    The three registries are each read as of their own newest snapshot. When
    one registry's newest snapshot is older than another's (its upload of that
    day is missing), the marts join registries of different days: a vehicle,
    key or release added since is unknown to them. Returns each registry that
    is behind, with its newest snapshot and the newest of any registry (kept
    in dbt_test__audit.assert_registry_snapshots_agree). Warns by default (the
    marts are still built); set var registry_snapshot_severity to error to
    stop the build instead.
-#}

with

newest_snapshots as (

    select
        'vehicles' as registry,
        max(snapshot_date) as newest_snapshot_date
    from {{ ref('stg_raw__vehicles') }}
    union all
    select
        'keys' as registry,
        max(snapshot_date) as newest_snapshot_date
    from {{ ref('stg_raw__keys') }}
    union all
    select
        'firmware_releases' as registry,
        max(snapshot_date) as newest_snapshot_date
    from {{ ref('stg_raw__firmware_releases') }}

),

newest_of_any as (

    select max(newest_snapshot_date) as newest_of_any_registry
    from newest_snapshots

),

final as (

    select
        newest_snapshots.registry,
        newest_snapshots.newest_snapshot_date,
        newest_of_any.newest_of_any_registry
    from newest_snapshots
    cross join newest_of_any
    where newest_snapshots.newest_snapshot_date < newest_of_any.newest_of_any_registry

)

select * from final
