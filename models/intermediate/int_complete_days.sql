{{ config(materialized='table') }}

{#-
    Complete days (docs/metrics.md#complete-days): one row per telemetry table
    and ingest day of the lake, with whether that UTC day's data is complete.
    Rows of a day arrive in the ingest partitions of the day itself and, when
    late, of the following days; a day is complete when those partitions
    (up to complete_day_lateness_days after it) all hold raw rows and are closed
    (a newer ingest day exists, so the newest partition, which may still be
    filling, never completes a day), and it lies more than
    complete_day_warmup_days after the table's first ingest day (the history
    starts part-way through the first days). Daily marts join it on their day;
    a day without a partition of its own is never complete. A table, so the
    marts read it without re-scanning the raw rows; every build recomputes it.
    The ingest days come from the base models, which hold every raw row read
    whatever its status: a day needs no row classified to hold raw rows.
-#}

with

access_event_rows as (select * from {{ ref('base_raw__access_events') }}),

fob_battery_reading_rows as (select * from {{ ref('base_raw__fob_battery_readings') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

ingest_days as (

    select distinct
        'access_events' as table_name,
        ingest_date
    from access_event_rows
    union all
    select distinct
        'fob_battery_readings' as table_name,
        ingest_date
    from fob_battery_reading_rows

),

table_bounds as (

    select
        table_name,
        min(ingest_date) as first_ingest_date,
        max(ingest_date) as newest_ingest_date
    from ingest_days
    group by table_name

),

lateness_coverage as (

    -- ingest days with files from the day to the end of its lateness allowance
    select
        partition_days.table_name,
        partition_days.ingest_date,
        count(*) as covered_days
    from ingest_days as partition_days
    cross join thresholds
    inner join ingest_days as later_days
        on
            partition_days.table_name = later_days.table_name
            and later_days.ingest_date between partition_days.ingest_date
            and {{ access_analytics.add_days('partition_days.ingest_date', 'thresholds.complete_day_lateness_days') }}
    group by partition_days.table_name, partition_days.ingest_date

),

final as (

    select
        lateness_coverage.table_name,
        lateness_coverage.ingest_date as metric_date,
        (
            lateness_coverage.ingest_date
            > {{ access_analytics.add_days('table_bounds.first_ingest_date', 'thresholds.complete_day_warmup_days') }}
            and {{
                access_analytics.add_days('lateness_coverage.ingest_date', 'thresholds.complete_day_lateness_days')
            }}
            < table_bounds.newest_ingest_date
            and lateness_coverage.covered_days = thresholds.complete_day_lateness_days + 1
        ) as is_complete_day
    from lateness_coverage
    cross join thresholds
    inner join table_bounds
        on lateness_coverage.table_name = table_bounds.table_name

)

select * from final
