{{ config(materialized='incremental', unique_key='fob_day_id') }}

{#-
    One row per fob and reading day. The fob's vehicle and cell lot come from
    the newest keys registry; a fob missing from it keeps a null vehicle and
    the cell lot 'unknown'.
-#}

with

fob_days as (select * from {{ ref('int_fob_battery_days') }}),

keys as (select * from {{ ref('int_keys_pseudonymized') }}),

selected_fob_days as (

    select * from fob_days
    {% if is_incremental() %}
    where source_ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
        or {{ access_analytics.pseudonym('fob_id') }} in (
            -- stored rows whose registry attributes have changed since
            select stored.fob_key
            from {{ this }} as stored
            left join keys
                on stored.fob_key = keys.key_key
            where coalesce(stored.vehicle_key, '') <> coalesce(keys.vehicle_key, '')
                or stored.cell_lot <> coalesce(keys.cell_lot, 'unknown')
        )
    {% endif %}

),

final as (

    select
        {{ access_analytics.pseudonym('selected_fob_days.fob_id') }}
        || '|' || cast(selected_fob_days.reading_date as varchar) as fob_day_id,
        {{ access_analytics.pseudonym('selected_fob_days.fob_id') }} as fob_key,
        keys.vehicle_key,
        selected_fob_days.reading_date,
        selected_fob_days.readings,
        selected_fob_days.voltage_comp_mv_median,
        -- integer on both engines: Iceberg (Trino) has no smallint
        cast(selected_fob_days.voltage_mv_min as integer) as voltage_mv_min,
        coalesce(keys.cell_lot, 'unknown') as cell_lot,
        selected_fob_days.source_ingest_date
    from selected_fob_days
    left join keys
        on selected_fob_days.fob_id = keys.key_id

)

select * from final
