{{ config(materialized='table') }}

{#-
    The lake's inventory of the raw telemetry: one row per file, with its
    ingest day and row count, listed from the lake itself rather than read
    through the models' glob. conservation_of_rows checks it file by file
    against what staging read, and mart_data_quality_daily tells a quiet day
    (files with no rows) from a missing one (no file) by it. Taken after the
    base models (depends_on), whose contract check stops the build first on a
    lake with misplaced, mistyped or unreadable files. A table, rebuilt on
    every run: it always lists the whole lake, whatever the incremental window.
-#}

-- depends_on: {{ ref('base_raw__access_events') }}
-- depends_on: {{ ref('base_raw__fob_battery_readings') }}

with

access_events as (

    {{ access_analytics.lake_files('access_events') }}

),

fob_battery_readings as (

    {{ access_analytics.lake_files('fob_battery_readings') }}

),

final as (

    select * from access_events
    union all
    select * from fob_battery_readings

)

select * from final
