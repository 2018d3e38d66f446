{#-
    Conservation of a telemetry table: every row of every lake file is kept
    (the model under test), dropped as a duplicate copy or quarantined. The
    lake side is the inventory (stg_raw__lake_files: every file listed, its
    rows counted from its Parquet footer), not the glob the models read, so a
    file staging skipped (one that landed in a partition before the
    incremental window, say) fails the build as surely as a row lost or
    counted twice inside staging. Checked per file and per ingest day; each
    failing row names the day and, at file grain, the file (file_path null
    for the day's total), with the rows in the lake and where staging put
    them. A file with no rows balances with nothing staged.
-#}
{% test conservation_of_rows(
    model, inventory_relation, table_name, duplicates_relation, quarantine_relation, partition_column='ingest_date'
) %}
    {%- set staged = [
        ('rows_kept', model),
        ('duplicates_dropped', duplicates_relation),
        ('rows_quarantined', quarantine_relation),
    ] %}

    with

    lake_files as (
        select
            ingest_date as partition_value,
            file_path,
            row_count as rows_in_lake
        from {{ inventory_relation }}
        where table_name = '{{ table_name }}'
    ),

    staged_counts as (
        {%- for measure, relation in staged %}
        select
            {{ partition_column }} as partition_value,
            source_file as file_path,
            '{{ measure }}' as measure,
            count(*) as row_count
        from {{ relation }}
        group by {{ partition_column }}, source_file
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    staged_files as (
        select
            partition_value,
            file_path,
            {%- for measure, _ in staged %}
            sum(case when measure = '{{ measure }}' then row_count else 0 end) as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from staged_counts
        group by partition_value, file_path
    ),

    per_file as (
        select
            coalesce(lake_files.partition_value, staged_files.partition_value) as partition_value,
            coalesce(lake_files.file_path, staged_files.file_path) as file_path,
            coalesce(lake_files.rows_in_lake, 0) as rows_in_lake,
            {%- for measure, _ in staged %}
            coalesce(staged_files.{{ measure }}, 0) as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from lake_files
        full outer join staged_files
            on
                lake_files.partition_value = staged_files.partition_value
                and lake_files.file_path = staged_files.file_path
    ),

    per_day as (
        select
            partition_value,
            cast(null as varchar) as file_path,
            sum(rows_in_lake) as rows_in_lake,
            {%- for measure, _ in staged %}
            sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from per_file
        group by partition_value
    ),

    balance as (
        select * from per_file
        union all
        select * from per_day
    )

    select *
    from balance
    where rows_in_lake != rows_kept + duplicates_dropped + rows_quarantined
{% endtest %}
