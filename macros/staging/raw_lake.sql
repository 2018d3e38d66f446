{#-
    The glob of every Parquet file of one raw table, as the source's location
    (models/staging/_staging__sources.yml) states it: the one place the lake
    layout is written down.
-#}
{% macro raw_table_glob(table_name) -%}
    {%- set location = source('raw', table_name).render() -%}
    {{- modules.re.search("read_parquet\('([^']*)'", location).group(1) -}}
{%- endmacro %}


{#-
    Stops the build, before any row is read, when the lake does not hold the
    raw table the contract promises: no files at all, a file in a folder that is
    not a partition, or a file that lacks one of the contract's columns. The
    error names the table, the file and the column, so a renamed column or a
    missing lake never ends as a silently empty mart. A corrupt Parquet file
    fails here too, with DuckDB naming the file.
-#}
{% macro assert_raw_table_matches_contract(table_name) -%}
    {#- Linting compiles models without a lake (var check_raw_lake=false). -#}
    {%- if not var('check_raw_lake', true) -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('assert_raw_table_matches_contract', 'access_analytics')(table_name)) }}
{%- endmacro %}

{% macro duckdb__assert_raw_table_matches_contract(table_name) -%}
    {%- if execute -%}
        {%- set partition_column = access_analytics.raw_source_node(table_name).meta.partition_column -%}
        {%- set expected = access_analytics.raw_contract_columns(table_name) | map(attribute='name') | list -%}
        {%- set pattern = access_analytics.raw_table_glob(table_name) -%}
        {%- set lake_root = env_var('ACCESS_LAKE_ROOT', 'data/lake') -%}

        {%- set files = run_query("select file from glob('" ~ pattern ~ "') order by file") -%}
        {%- if files.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": no Parquet files match " ~ pattern
                ~ " (is ACCESS_LAKE_ROOT=" ~ lake_root ~ " the lake root?)") }}
        {%- endif -%}
        {%- for row in files.rows -%}
            {%- set folder = row[0].split('/')[-2] -%}
            {%- if not modules.re.fullmatch(partition_column ~ '=\\d{4}-\\d{2}-\\d{2}', folder) -%}
                {{ exceptions.raise_compiler_error(
                    "raw table " ~ table_name ~ ": file " ~ row[0] ~ " is not in a "
                    ~ partition_column ~ "=YYYY-MM-DD partition folder") }}
            {%- endif -%}
        {%- endfor -%}

        {%- set schema_query -%}
            select file_name, name
            from parquet_schema('{{ pattern }}')
            where name in ({% for column_name in expected %}'{{ column_name }}'{{ ', ' if not loop.last }}{% endfor %})
        {%- endset -%}
        {%- set found = run_query(schema_query) -%}
        {%- set columns_by_file = {} -%}
        {%- for row in files.rows -%}
            {%- do columns_by_file.update({row[0]: []}) -%}
        {%- endfor -%}
        {%- for row in found.rows -%}
            {%- do columns_by_file.setdefault(row[0], []).append(row[1]) -%}
        {%- endfor -%}
        {%- for file_name, present in columns_by_file.items() -%}
            {%- for column_name in expected if column_name not in present -%}
                {{ exceptions.raise_compiler_error(
                    "raw table " ~ table_name ~ ": file " ~ file_name
                    ~ " has no column '" ~ column_name ~ "' (the raw contract requires "
                    ~ expected | join(', ') ~ ")") }}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- On Trino the catalog holds the table: check it exists with every contract column. -#}
{% macro trino__assert_raw_table_matches_contract(table_name) -%}
    {%- if execute -%}
        {%- set relation = source('raw', table_name) -%}
        {%- set partition_column = access_analytics.raw_source_node(table_name).meta.partition_column -%}
        {%- set expected = access_analytics.raw_contract_columns(table_name) | map(attribute='name') | list + [partition_column] -%}
        {%- set columns_query -%}
            select column_name
            from {{ relation.database }}.information_schema.columns
            where table_schema = '{{ relation.schema }}' and table_name = '{{ relation.identifier }}'
        {%- endset -%}
        {%- set present = run_query(columns_query).columns[0].values() | list -%}
        {%- if present | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": " ~ relation ~ " does not exist in Trino "
                ~ "(register the lake first: access-analytics trino register-lake)") }}
        {%- endif -%}
        {%- for column_name in expected if column_name not in present -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": " ~ relation ~ " has no column '" ~ column_name
                ~ "' (the raw contract requires " ~ expected | join(', ') ~ ")") }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
    The lake file a raw row was read from, as its path inside the lake
    (raw/<table>/<partition>/<file>): the same string whatever the lake root
    or engine (DuckDB gives the globbed path, Trino a local:/// or s3:// URI).
-#}
{% macro raw_source_file() -%}
    regexp_extract({{ adapter.dispatch('raw_file_path', 'access_analytics')() }}, 'raw/[^/]+/[^/=]+=[^/]+/[^/]+$')
{%- endmacro %}

{% macro duckdb__raw_file_path() -%}
    filename
{%- endmacro %}

{% macro trino__raw_file_path() -%}
    "$path"
{%- endmacro %}

{#- The row's position in its file, where the engine exposes it (a tie-break among identical copies). -#}
{% macro raw_source_row_number() -%}
    {{ return(adapter.dispatch('raw_source_row_number', 'access_analytics')()) }}
{%- endmacro %}

{% macro duckdb__raw_source_row_number() -%}
    cast(file_row_number as bigint)
{%- endmacro %}

{% macro trino__raw_source_row_number() -%}
    cast(null as bigint)
{%- endmacro %}
