{#-
    Conservation of a telemetry table (RAW_CONTRACT.md): for every ingest day,
    the rows read from the raw table equal the rows kept (the model under test)
    plus the duplicate copies dropped plus the rows quarantined. Each count
    comes from its own relation, so a row lost or counted twice anywhere in
    staging fails the build with the ingest day that does not add up.
-#}
{% test conservation_of_rows(model, raw_relation, duplicates_relation, quarantine_relation, partition_column='ingest_date') %}
    with
    rows_read as (
        select {{ partition_column }} as partition_value, count(*) as row_count
        from {{ raw_relation }}
        group by 1
    ),

    rows_kept as (
        select {{ partition_column }} as partition_value, count(*) as row_count
        from {{ model }}
        group by 1
    ),

    duplicates_dropped as (
        select {{ partition_column }} as partition_value, count(*) as row_count
        from {{ duplicates_relation }}
        group by 1
    ),

    rows_quarantined as (
        select {{ partition_column }} as partition_value, count(*) as row_count
        from {{ quarantine_relation }}
        group by 1
    ),

    partitions as (
        select partition_value from rows_read
        union
        select partition_value from rows_kept
        union
        select partition_value from duplicates_dropped
        union
        select partition_value from rows_quarantined
    ),

    balance as (
        select
            partitions.partition_value,
            coalesce(rows_read.row_count, 0) as rows_read,
            coalesce(rows_kept.row_count, 0) as rows_kept,
            coalesce(duplicates_dropped.row_count, 0) as duplicates_dropped,
            coalesce(rows_quarantined.row_count, 0) as rows_quarantined
        from partitions
        left join rows_read on partitions.partition_value = rows_read.partition_value
        left join rows_kept on partitions.partition_value = rows_kept.partition_value
        left join duplicates_dropped
            on partitions.partition_value = duplicates_dropped.partition_value
        left join rows_quarantined
            on partitions.partition_value = rows_quarantined.partition_value
    )

    select *
    from balance
    where rows_read != rows_kept + duplicates_dropped + rows_quarantined
{% endtest %}
