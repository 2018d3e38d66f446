-- main.build_freshness: the view `access-analytics dashboards publish` writes beside
-- main.build_info in the serving file, and the only relation the dashboards' freshness
-- strip reads. One row: how fresh the served data is and which build it comes from.
-- The age is computed when the view is queried, so a dashboard opened later reads stale
-- without a new publish. A view, not a Superset SQL dataset: Superset parses and
-- rewrites a SQL dataset's text on every chart query, a table it reads as it is.
with telemetry as (
    select
        min(newest_event_date) as newest_event_date,
        min(newest_ingest_date) as newest_ingest_date,
        min(newest_received_at) as newest_received_at,
        sum(rows_quarantined_newest_day) as rows_quarantined_newest_day
    from main.build_info
    where is_telemetry
),

build as (
    select
        max(build_finished_at) as build_finished_at,
        max(build_status) as build_status,
        max(tests_run) as tests_run,
        max(tests_passed) as tests_passed,
        max(tests_warned) as tests_warned,
        max(stale_after_hours) as stale_after_hours
    from main.build_info
),

aged as (
    select
        telemetry.*,
        build.*,
        (epoch(now()) - epoch(telemetry.newest_received_at)) / 3600.0 as data_age_hours
    from telemetry
    cross join build
)

select
    case
        when data_age_hours is null then 'STALE: no telemetry received'
        when data_age_hours > stale_after_hours then 'STALE: newest row '
        else 'Fresh: newest row '
    end
    || case
        when data_age_hours is null then ''
        when data_age_hours < 72 then cast(cast(floor(data_age_hours) as bigint) as varchar) || ' h old'
        else cast(cast(floor(data_age_hours / 24) as bigint) as varchar) || ' days old'
    end
    || ' (stale after '
    || regexp_replace(cast(stale_after_hours as varchar), '\.0$', '')
    || ' h)' as freshness,
    coalesce(data_age_hours > stale_after_hours, true) as is_stale,
    data_age_hours,
    stale_after_hours,
    newest_event_date,
    newest_ingest_date,
    replace(left(build_finished_at, 16), 'T', ' ') || ' UTC' as build_finished,
    case
        when build_status = 'success' and tests_passed + tests_warned = tests_run
            then 'All ' || cast(tests_run as varchar) || ' tests passed'
            || case
                when tests_warned > 0 then ' (' || cast(tests_warned as varchar) || ' with a warning)'
                else ''
            end
        else 'Build ' || build_status || ': ' || cast(tests_passed as varchar) || ' of '
            || cast(tests_run as varchar) || ' tests passed'
    end as test_result,
    rows_quarantined_newest_day
from aged
