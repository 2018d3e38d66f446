{#-
    Data quality per raw telemetry table and ingest day: every row read, by
    what became of it (kept, duplicate dropped, quarantined), and over the
    kept rows their lateness, freshness and firmware versions missing from
    the registry. rows_read = rows_kept + duplicates_dropped + rows_quarantined
    by construction; the staging conservation test checks it against a count
    of the raw table itself.
-#}

with

raw_rows as (select * from {{ ref('int_raw_rows_unioned') }}),

releases as (select * from {{ ref('stg_raw__firmware_releases') }}),

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
        table_name,
        ingest_date,
        rows_read,
        rows_kept,
        duplicates_dropped,
        rows_quarantined,
        {{ access_analytics.safe_ratio('rows_late_1h', 'rows_kept') }} as late_1h_share,
        {{ access_analytics.safe_ratio('rows_late_24h', 'rows_kept') }} as late_24h_share,
        max_received_at,
        unknown_firmware_rows
    from daily

)

select * from final
