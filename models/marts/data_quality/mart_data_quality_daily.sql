{#-
    Data quality per raw telemetry table and ingest day: every row read, by
    what became of it (kept, duplicate dropped, quarantined), and over the
    kept rows their lateness, freshness and firmware versions missing from
    the registry. rows_read = rows_kept + duplicates_dropped + rows_quarantined
    by construction; the staging conservation test checks it, file by file,
    against the lake's inventory (stg_raw__lake_files). Which days exist comes
    from that inventory, not from the rows: a day whose files hold no rows is
    present with 0 rows, and a day between a table's first and newest ingest
    day that has no file at all is a row too, with 0 rows and is_missing_day.
-#}

with

raw_rows as (select * from {{ ref('int_raw_rows_unioned') }}),

releases as (select * from {{ ref('stg_raw__firmware_releases') }}),

lake_files as (select * from {{ ref('stg_raw__lake_files') }}),

classified as (

    select
        raw_rows.table_name,
        raw_rows.ingest_date,
        raw_rows.row_status,
        raw_rows.received_at,
        {{ access_analytics.seconds_between('raw_rows.happened_at', 'raw_rows.received_at') }}
            as seconds_late,
        releases.version is null as has_unknown_firmware
    from raw_rows
    left join releases
        on raw_rows.firmware_version = releases.version

),

present_days as (

    select distinct
        table_name,
        ingest_date
    from lake_files

),

ingest_bounds as (

    select
        table_name,
        min(ingest_date) as first_ingest_date,
        max(ingest_date) as newest_ingest_date
    from present_days
    group by table_name

),

calendar as (

    {{ access_analytics.date_spine(
        '(select min(first_ingest_date) from ingest_bounds)',
        '(select max(newest_ingest_date) from ingest_bounds)',
    ) }}

),

expected_days as (

    select
        ingest_bounds.table_name,
        calendar.day as ingest_date
    from ingest_bounds
    inner join calendar
        on calendar.day between ingest_bounds.first_ingest_date and ingest_bounds.newest_ingest_date

),

daily as (

    select
        table_name,
        ingest_date,
        count(*) as rows_read,
        count(case when row_status = 'kept' then 1 end) as rows_kept,
        count(case when row_status = 'duplicate' then 1 end) as duplicates_dropped,
        count(case when row_status = 'quarantined' then 1 end) as rows_quarantined,
        count(case when row_status = 'kept' and seconds_late > 3600 then 1 end) as rows_late_1h,
        count(case when row_status = 'kept' and seconds_late > 86400 then 1 end) as rows_late_24h,
        max(case when row_status = 'kept' then received_at end) as max_received_at,
        count(case when row_status = 'kept' and has_unknown_firmware then 1 end)
            as unknown_firmware_rows
    from classified
    group by table_name, ingest_date

),

final as (

    select
        expected_days.table_name,
        expected_days.ingest_date,
        coalesce(daily.rows_read, 0) as rows_read,
        coalesce(daily.rows_kept, 0) as rows_kept,
        coalesce(daily.duplicates_dropped, 0) as duplicates_dropped,
        coalesce(daily.rows_quarantined, 0) as rows_quarantined,
        {{ access_analytics.safe_ratio('daily.rows_late_1h', 'daily.rows_kept') }} as late_1h_share,
        {{ access_analytics.safe_ratio('daily.rows_late_24h', 'daily.rows_kept') }} as late_24h_share,
        daily.max_received_at,
        coalesce(daily.unknown_firmware_rows, 0) as unknown_firmware_rows,
        present_days.table_name is null as is_missing_day
    from expected_days
    left join present_days
        on
            expected_days.table_name = present_days.table_name
            and expected_days.ingest_date = present_days.ingest_date
    left join daily
        on
            expected_days.table_name = daily.table_name
            and expected_days.ingest_date = daily.ingest_date

)

select * from final
