{#-
    Incremental recomputation of sessions (attempts, taps, episodes).

    A session depends only on events at most `walkaway_window_s` (600 s) after
    its start, so an event that arrives late (up to 30 days) can only change
    sessions of its own vehicle that start on the event's UTC day or the day
    before. An incremental run therefore takes every event ingested since the
    model's watermark (minus the ingest lookback), and rebuilds all sessions
    of those (vin, day) and (vin, day - 1) pairs from all kept events of the
    vehicle on those days and the following one.

    The watermark is the newest `source_ingest_date` in the model: the newest
    ingest day among the events that decide a session. It never runs ahead of
    the staging data already processed, so the lookback window always covers
    the rows staging added since the previous run.
-#}

{#-
    The ingest day from which events count as new for this incremental model,
    as a date literal: the model's newest watermark minus the lookback, read
    before the query runs (incremental_ingest_cutoff). A literal lets the
    engine skip the older ingest days of staging by their zone maps or
    partitions; compared with a scalar subquery, every row was read first and
    filtered after (at 100 M events the sessionizers read all of them to find
    one day's sessions). In a unit
    test `this` names its given rows, which only the test's own query can
    read, so there it stays a subquery over them.
-#}
{% macro session_ingest_cutoff(watermark_column='source_ingest_date') -%}
    {%- if execute and this is not string -%}
        {#- an empty model has no watermark: every event is new -#}
        date '{{ access_analytics.incremental_ingest_cutoff(watermark_column) or '1900-01-01' }}'
    {%- else -%}
    (
        select {{ access_analytics.add_days(
            'coalesce(max(' ~ watermark_column ~ "), date '1900-01-01')",
            -1 * (var('ingest_lookback_days') | int)
        ) }}
        from {{ this }}
    )
    {%- endif -%}
{%- endmacro %}

{#-
    (vin, start_date) pairs whose sessions an incremental run rebuilds. Give it
    the events relation itself, not the model's `events` CTE: DuckDB
    materializes a CTE that is read more than once, whole, and at 10 M events
    copying every kept event took longer than sessionizing the new ones.
-#}
{% macro session_days_to_rebuild(events_relation, day_expr='event_at') -%}
    select distinct
        vin,
        cast({{ day_expr }} as date) as start_date
    from {{ events_relation }}
    where ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
    union
    select distinct
        vin,
        {{ access_analytics.add_days('cast(' ~ day_expr ~ ' as date)', -1) }} as start_date
    from {{ events_relation }}
    where ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
{%- endmacro %}

{#- (vin, event_date) pairs whose events are read to rebuild those sessions. -#}
{% macro session_days_to_read(rebuilt_days_cte) -%}
    select vin, start_date as event_date from {{ rebuilt_days_cte }}
    union
    select vin, {{ access_analytics.add_days('start_date', 1) }} as event_date
    from {{ rebuilt_days_cte }}
{%- endmacro %}

{#-
    The CTEs a sessionized model starts with, after its `events` and
    `thresholds` import CTEs: on an incremental run the (vin, day) pairs to
    rebuild and to read, then `session_events`, the given columns of the
    events that matter to the session type (`condition`), limited to the days
    to read. `events_relation` is the relation the `events` CTE reads (see
    session_days_to_rebuild). Ends without a trailing comma.
-#}
{% macro session_events(columns, condition, events_relation) -%}
    {%- if is_incremental() -%}
rebuilt_days as (

    {{ access_analytics.session_days_to_rebuild(events_relation) }}

),

read_days as (

    {{ access_analytics.session_days_to_read('rebuilt_days') }}

),

    {% endif -%}
session_events as (

    select
        {%- for column in columns %}
        events.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from events
    {%- if is_incremental() %}
    inner join read_days
        on
            events.vin = read_days.vin
            and cast(events.event_at as date) = read_days.event_date
    {%- endif %}
    where {{ condition }}

)
{%- endmacro %}

{#- On an incremental run, keep only the sessions of the rebuilt (vin, day) pairs. -#}
{% macro where_session_is_rebuilt(vin_expr, day_expr) -%}
    {%- if is_incremental() -%}
    where exists (
        select 1
        from rebuilt_days
        where
            rebuilt_days.vin = {{ vin_expr }}
            and rebuilt_days.start_date = {{ day_expr }}
    )
    {%- endif -%}
{%- endmacro %}
