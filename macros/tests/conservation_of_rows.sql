{#-
    Conservation of a telemetry table: for every ingest day, the rows read
    from the raw table equal the rows kept (the model under test) plus the
    duplicate copies dropped plus the rows quarantined. Each count comes from
    its own relation, so a row lost or counted twice anywhere in staging fails
    the build with the ingest day that does not add up.
-#}
{% test conservation_of_rows(model, raw_relation, duplicates_relation, quarantine_relation, partition_column='ingest_date') %}
    {%- set counted = [
        ('rows_read', raw_relation),
        ('rows_kept', model),
        ('duplicates_dropped', duplicates_relation),
        ('rows_quarantined', quarantine_relation),
    ] %}

    with

    counts as (
        {%- for measure, relation in counted %}
        select
            {{ partition_column }} as partition_value,
            '{{ measure }}' as measure,
            count(*) as row_count
        from {{ relation }}
        group by {{ partition_column }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    balance as (
        select
            partition_value,
            {%- for measure, _ in counted %}
            sum(case when measure = '{{ measure }}' then row_count else 0 end) as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from counts
        group by partition_value
    )

    select *
    from balance
    where rows_read != rows_kept + duplicates_dropped + rows_quarantined
{% endtest %}
