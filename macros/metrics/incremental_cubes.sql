{#-
    Incremental daily cubes (mart_*_daily_by_slice). A cube's roll-up rows
    depend on every session of their day, so an incremental run recomputes
    whole days and replaces them (unique_key metric_date). It recomputes the
    days that can have changed since the cube was built:

    - days with sessions written from new data: a session that new events
      change gets their ingest day as its source_ingest_date, so these are
      the days of sessions at or after the cube's own watermark (its newest
      source_ingest_date, minus the ingest lookback, as for the facts);
    - days whose completeness changed: a day becomes complete when the next
      days' partitions arrive, with no new session of its own;
    - days whose finest cells (no dimension rolled up) no longer match the
      sessions: sessions that moved between slices without new data, when
      the facts re-attach a corrected vehicle registry. Every measure of
      those cells is compared, counts and percentiles alike.

    Days outside these keep their stored rows, which a full build would
    compute the same way. tests/test_incremental_marts.py checks that the
    incremental cubes equal a full build row for row.
-#}

{#- Fails with what to do when the stored cube predates its watermark column. -#}
{% macro assert_cube_has_watermark() -%}
    {#- In a unit test `this` is the name of its given rows, not a relation: nothing to check. -#}
    {%- if execute and is_incremental() and this is not string -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'source_ingest_date' not in stored -%}
            {{ exceptions.raise_compiler_error(
                this ~ " was built before it could be built incrementally (it has no"
                ~ " source_ingest_date column): rebuild it once with --full-refresh"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The days (metric_date) an incremental run of a daily cube recomputes, as a
    CTE body; see above. `sessions_cte` has metric_date and source_ingest_date
    per session; `finest_cells_cte` holds the cube's measures for every day and
    combination of `dimensions`, computed as the cube computes them;
    `measures` are the stored columns compared; `table_name` is the raw table
    whose complete days the cube flags. The model imports int_complete_days as
    `complete_days`.
-#}
{% macro cube_days_to_rebuild(sessions_cte, finest_cells_cte, dimensions, measures, table_name) -%}
    {%- set cell_columns = ['metric_date'] + dimensions + measures %}
    with stored_finest_cells as (

        select *
        from {{ this }}
        where
            {%- for dimension in dimensions %}
            {{ 'and ' if not loop.first }}{{ dimension }} <> 'All'
            {%- endfor %}

    )

    select distinct metric_date
    from {{ sessions_cte }}
    where source_ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
    union
    select stored.metric_date
    from (select distinct metric_date, is_complete_day from {{ this }}) as stored
    left join complete_days
        on
            complete_days.table_name = '{{ table_name }}'
            and stored.metric_date = complete_days.metric_date
    where stored.is_complete_day <> coalesce(complete_days.is_complete_day, false)
    union
    select metric_date
    from (
        (
            select {{ cell_columns | join(', ') }} from {{ finest_cells_cte }}
            except
            select {{ cell_columns | join(', ') }} from stored_finest_cells
        )
        union all
        (
            select {{ cell_columns | join(', ') }} from stored_finest_cells
            except
            select {{ cell_columns | join(', ') }} from {{ finest_cells_cte }}
        )
    ) as changed_cells
{%- endmacro %}

{#-
    The CTEs of a daily cube after its `members` CTE (one row per session, with
    metric_date, the dimensions and source_ingest_date): on an incremental run
    `finest_cells` and `rebuilt_days` (see cube_days_to_rebuild), then `sliced`,
    the cube itself (GROUP BY metric_date, CUBE(dimensions)) of the days being
    built. `measure_expressions` is the select list of the measures, the same
    for the cube and its finest cells; `measures` their names. Ends without a
    trailing comma.
-#}
{% macro daily_cube(dimensions, measures, measure_expressions, table_name) -%}
    {%- if is_incremental() -%}
finest_cells as (

    select
        metric_date,
        {{ dimensions | join(', ') }},
        {{ measure_expressions }}
    from members
    group by metric_date, {{ dimensions | join(', ') }}

),

rebuilt_days as (

    {{ access_analytics.cube_days_to_rebuild('members', 'finest_cells', dimensions, measures, table_name) }}

),

    {% endif -%}
sliced as (

    select
        metric_date,
        {{ access_analytics.slice_labels(dimensions) }}
        {{ measure_expressions }}
    from members
    {%- if is_incremental() %}
    where metric_date in (select metric_date from rebuilt_days)
    {%- endif %}
    group by
        metric_date,
        cube({{ dimensions | join(', ') }})

)
{%- endmacro %}
