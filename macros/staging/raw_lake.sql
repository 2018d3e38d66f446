{#-
    The glob of every Parquet file of one raw table, as the source's location
    (models/staging/_staging__sources.yml) states it: the one place the lake
    layout is written down. While dbt parses, a rootless '/*/*.parquet'.
-#}
{% macro raw_table_glob(table_name) -%}
    {#- While dbt parses, source() is a stand-in without the location. -#}
    {%- if not execute -%}
        {{ return('/*/*.parquet') }}
    {%- endif -%}
    {%- set location = source('raw', table_name).render() -%}
    {{- modules.re.search("read_parquet\('([^']*)'", location).group(1) -}}
{%- endmacro %}

{#- The folder of one raw table in the lake, <lake>/raw/<table>, from the same location. -#}
{% macro raw_table_dir(table_name) -%}
    {%- set pattern = access_analytics.raw_table_glob(table_name) -%}
    {{- pattern[:pattern.rindex('/*/*.parquet')] -}}
{%- endmacro %}


{#-
    Stops the build, before any row is read, when the lake does not hold the
    raw table the contract promises. On DuckDB every file under
    <lake>/raw/<table>/ is listed, at any depth and whatever its name, and
    checked: it must be <partition_column>=<a valid YYYY-MM-DD>/<name>.parquet
    (a name starting with . or _ is hidden from Hive and Trino, so it is out
    of the layout too); every file of the partitions this run reads
    (partitions_read) must decode, one file at a time, so a corrupt or
    truncated file is named; and every file must hold every contract column
    and store each with the contract's type. All layout and type problems are
    reported at once, one line each, naming the file, the column, the type
    expected and the type found; the first file that does not decode stops
    the build on its own. No file is ever skipped silently. Extra columns are
    accepted and reported in the log.
-#}
{% macro assert_raw_table_matches_contract(table_name, partitions_read='all') -%}
    {#- Linting compiles models without a lake (var check_raw_lake=false). -#}
    {%- if not var('check_raw_lake', true) -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('assert_raw_table_matches_contract', 'access_analytics')(table_name, partitions_read)) }}
{%- endmacro %}

{% macro duckdb__assert_raw_table_matches_contract(table_name, partitions_read='all') -%}
    {%- if execute -%}
        {%- set pattern = access_analytics.raw_table_glob(table_name) -%}
        {%- set table_dir = access_analytics.raw_table_dir(table_name) -%}
        {%- set files = run_query("select file from glob('" ~ table_dir ~ "/**') order by file").columns[0].values() -%}
        {%- if files | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": no files under " ~ table_dir
                ~ " (is ACCESS_LAKE_ROOT=" ~ env_var('ACCESS_LAKE_ROOT', 'data/lake') ~ " the lake root?)") }}
        {%- endif -%}
        {%- set misplaced = access_analytics.misplaced_lake_files(table_name, table_dir, files) -%}
        {%- if misplaced -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": " ~ misplaced | length ~ " file(s) outside the layout "
                ~ table_name ~ "/<partition>=YYYY-MM-DD/<name>.parquet:\n" ~ misplaced | join('\n')) }}
        {%- endif -%}
        {%- do access_analytics.assert_lake_files_decode(table_name, table_dir, files, partitions_read) -%}
        {%- set problems = access_analytics.lake_schema_problems(table_name, pattern, files) -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ table_name ~ ": " ~ problems | length ~ " file column(s) break the raw contract:\n"
                ~ problems | join('\n')) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    One line per file that is not <partition_column>=<valid date>/<name>.parquet
    under the table folder, or whose name starts with . or _ (Hive and Trino
    skip such files, DuckDB would read them).
-#}
{% macro misplaced_lake_files(table_name, table_dir, files) -%}
    {%- set partition_column = access_analytics.raw_source_node(table_name).meta.partition_column -%}
    {%- set misplaced = [] -%}
    {%- for path in files -%}
        {%- set parts = path[table_dir | length + 1:].split('/') -%}
        {%- set folder = modules.re.fullmatch(partition_column ~ '=(\\d{4})-(\\d{2})-(\\d{2})', parts[0]) if parts | length == 2 else none -%}
        {%- if parts | length != 2 -%}
            {%- do misplaced.append('  ' ~ path ~ ': not directly in a partition folder') -%}
        {%- elif folder is none -%}
            {%- do misplaced.append('  ' ~ path ~ ': folder is not ' ~ partition_column ~ '=YYYY-MM-DD') -%}
        {%- elif not access_analytics.is_valid_date(folder.group(1) | int, folder.group(2) | int, folder.group(3) | int) -%}
            {%- do misplaced.append('  ' ~ path ~ ': ' ~ parts[0] ~ ' is not a valid date') -%}
        {%- elif not parts[1].endswith('.parquet') or parts[1] == '.parquet' -%}
            {%- do misplaced.append('  ' ~ path ~ ': not a <name>.parquet file') -%}
        {%- elif parts[1][0] in '._' -%}
            {%- do misplaced.append('  ' ~ path ~ ': a name starting with . or _ is hidden from Hive and Trino') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(misplaced) }}
{%- endmacro %}

{#-
    Decodes every file of the partitions this run reads, one file at a time and
    every column of every row group, before the model reads them; the first
    file that does not decode (a corrupt data page, a truncated file, a broken
    footer) stops the build with its path. Checking file by file is what lets
    the message name the file: DuckDB's own error for a corrupt page often
    names none. Only the partitions read are decoded, so a daily incremental
    run decodes its lookback window, not the whole lake.
    partitions_read: 'all', 'newest' (the newest partition only, as a registry
    reads its newest snapshot) or a day YYYY-MM-DD (that partition and later
    ones, an incremental run's window).
-#}
{% macro assert_lake_files_decode(table_name, table_dir, files, partitions_read='all') -%}
    {%- set files_by_day = {} -%}
    {%- for path in files -%}
        {%- set day = path[table_dir | length + 1:].split('/')[0].split('=')[1] -%}
        {%- do files_by_day.setdefault(day, []).append(path) -%}
    {%- endfor -%}
    {%- if partitions_read == 'all' -%}
        {%- set days = files_by_day.keys() | sort -%}
    {%- elif partitions_read == 'newest' -%}
        {%- set days = [files_by_day.keys() | max] -%}
    {%- else -%}
        {%- set days = files_by_day.keys() | select('>=', partitions_read) | sort -%}
    {%- endif -%}
    {%- for day in days -%}
        {%- for path in files_by_day[day] -%}
            {%- do try_or_compiler_error(
                'raw table ' ~ table_name ~ ': ' ~ path ~ ' cannot be read: it is not a valid Parquet file'
                ~ ' (corrupt or truncated, DuckDB cannot decode it); move it out of the lake or replace it'
                ~ ' with a good copy, then build again',
                run_query,
                'select count(columns(*)) from read_parquet(' ~ access_analytics.sql_string(path) ~ ')') -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{#- True for a real calendar date (Jinja cannot catch the error of an invalid one). -#}
{% macro is_valid_date(year, month, day) -%}
    {%- set is_leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) -%}
    {%- set month_days = [31, 29 if is_leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {{ return(1 <= month <= 12 and 1 <= day <= month_days[month - 1]) }}
{%- endmacro %}

{#-
    One line per contract column that a lake file lacks or stores with
    another type than the contract's. Integer widening that cannot lose a
    value is accepted (a tinyint column where the contract says smallint);
    every other difference, including timestamps in another unit or adjusted
    to a time zone, is a problem. Extra columns are logged.
-#}
{% macro lake_schema_problems(table_name, pattern, files) -%}
    {%- set accepted = {
        'varchar': ['varchar'],
        'timestamp': ['timestamp'],
        'smallint': ['smallint', 'tinyint'],
        'real': ['real'],
        'date': ['date'],
    } -%}
    {%- set expected = access_analytics.raw_contract_columns(table_name) -%}
    {%- set schema_query -%}
        select file_name, name, type, converted_type, logical_type
        from parquet_schema('{{ pattern }}')
        where num_children is null
    {%- endset -%}
    {%- set found_by_file = {} -%}
    {%- for row in run_query(schema_query).rows -%}
        {%- do found_by_file.setdefault(row[0], {}).update(
            {row[1]: access_analytics.parquet_type_name(row[2], row[3], row[4])}) -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- for path in files -%}
        {%- set found = found_by_file.get(path, {}) -%}
        {%- for column in expected -%}
            {%- if column.name not in found -%}
                {%- do problems.append('  ' ~ path ~ ': column ' ~ column.name ~ ' is missing (expected ' ~ column.data_type ~ ')') -%}
            {%- elif found[column.name] not in accepted[column.data_type] -%}
                {%- do problems.append('  ' ~ path ~ ': column ' ~ column.name ~ ' expected '
                    ~ column.data_type ~ ', found ' ~ found[column.name]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set extra = found.keys() | reject('in', expected | map(attribute='name') | list) | list -%}
        {%- if extra -%}
            {{ log('raw table ' ~ table_name ~ ': ' ~ path ~ ' has columns outside the contract, not read: ' ~ extra | join(', '), info=true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(problems) }}
{%- endmacro %}

{#- A Parquet column's physical and logical type as a SQL type name, for comparison and messages. -#}
{% macro parquet_type_name(physical, converted, logical) -%}
    {%- set names = {
        ('BYTE_ARRAY', 'UTF8'): 'varchar',
        ('BYTE_ARRAY', none): 'blob',
        ('INT64', 'TIMESTAMP_MICROS'): 'timestamp',
        ('INT64', 'TIMESTAMP_MILLIS'): 'timestamp in milliseconds',
        ('INT96', none): 'timestamp (legacy INT96)',
        ('INT64', none): 'bigint',
        ('INT64', 'INT_64'): 'bigint',
        ('INT32', none): 'integer',
        ('INT32', 'INT_32'): 'integer',
        ('INT32', 'INT_16'): 'smallint',
        ('INT32', 'INT_8'): 'tinyint',
        ('INT32', 'DATE'): 'date',
        ('FLOAT', none): 'real',
        ('DOUBLE', none): 'double',
        ('BOOLEAN', none): 'boolean',
    } -%}
    {%- set name = names.get((physical, converted), physical ~ (' ' ~ converted if converted else '')) -%}
    {%- if name == 'timestamp' and 'isAdjustedToUTC=1' in (logical or '') -%}
        {%- set name = 'timestamp with time zone' -%}
    {%- elif (logical or '').startswith('TimestampType') and 'NANOS=NanoSeconds' in logical -%}
        {%- set name = 'timestamp in nanoseconds' -%}
    {%- endif -%}
    {{ return(name) }}
{%- endmacro %}

{#-
    On Trino the catalog holds the table: check it exists with every contract
    column. Trino lists no files to check one by one (partitions_read is
    unused); a file it cannot decode fails the query that reads it, with
    Trino's own message.
-#}
{% macro trino__assert_raw_table_matches_contract(table_name, partitions_read='all') -%}
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
    The lake's inventory of one raw telemetry table, as a select: one row per
    file with its table, ingest day, path inside the lake
    (raw/<table>/<partition>/<file>, as raw_source_file gives it) and row
    count. Counted on its own, not through the glob the models read, so a
    file the models skip shows as rows in the lake that staging lacks.
-#}
{% macro lake_files(table_name) -%}
    {{ return(adapter.dispatch('lake_files', 'access_analytics')(table_name)) }}
{%- endmacro %}

{#-
    DuckDB: every file under the table's folder, at any depth and whatever its
    name, with the row count of its Parquet footer (a file with no rows is a
    row with row_count 0).
-#}
{% macro duckdb__lake_files(table_name) -%}
    {%- set table_dir = access_analytics.raw_table_dir(table_name) -%}
    select
        '{{ table_name }}' as table_name,
        cast(regexp_extract(listed.file, '=([^/]+)/[^/]+$', 1) as date) as ingest_date,
        regexp_extract(listed.file, 'raw/[^/]+/[^/=]+=[^/]+/[^/]+$') as file_path,
        footer.num_rows as row_count
    from glob('{{ table_dir }}/**') as listed
    left join parquet_file_metadata('{{ table_dir }}/**') as footer
        on listed.file = footer.file_name
{%- endmacro %}

{#-
    Trino lists no files: each file that holds rows is counted by its "$path"
    (the same read the models do), and a partition the catalog knows but
    where no file holds a row is one row with a null file_path and 0 rows.
    A file with no rows, or one outside the partition folders, is not seen.
-#}
{% macro trino__lake_files(table_name) -%}
    {%- set relation = source('raw', table_name) -%}
    {%- set partitions = relation.incorporate(path={'identifier': relation.identifier ~ '$partitions'}) -%}
    select
        '{{ table_name }}' as table_name,
        cast(ingest_date as date) as ingest_date,
        {{ access_analytics.raw_source_file() }} as file_path,
        count(*) as row_count
    from {{ relation }}
    group by cast(ingest_date as date), {{ access_analytics.raw_source_file() }}
    union all
    select
        '{{ table_name }}' as table_name,
        cast(known.ingest_date as date) as ingest_date,
        cast(null as varchar) as file_path,
        cast(0 as bigint) as row_count
    from {{ partitions }} as known
    where not exists (select 1 from {{ relation }} as read_rows where read_rows.ingest_date = known.ingest_date)
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

{#-
    A fixed-width key of the file a raw row was read from (its source_file),
    so that staging tells a row from its later copies by three numbers
    (ingest_date, source_file_key, source_row_number) instead of hashing a
    path and an id for every row it reads. A 64-bit hash of the path: the
    base models' tests check that it names one file within an ingest day.
-#}
{% macro raw_file_key(source_file) -%}
    {{ return(adapter.dispatch('raw_file_key', 'access_analytics')(source_file)) }}
{%- endmacro %}

{% macro duckdb__raw_file_key(source_file) -%}
    hash({{ source_file }})
{%- endmacro %}

{% macro trino__raw_file_key(source_file) -%}
    from_big_endian_64(xxhash64(to_utf8({{ source_file }})))
{%- endmacro %}

{#-
    The row's number within its file: the de-duplication's last tie-break and,
    with the ingest day and the file, the row's identity. DuckDB gives the row's position in its
    file. Trino exposes no position, so there the rows of a file are numbered
    by id, then received_at: the copies of an id within a file keep their
    received_at order (copies tied on both are identical rows, so their order
    does not matter).
-#}
{% macro raw_source_row_number(id_column) -%}
    {{ return(adapter.dispatch('raw_source_row_number', 'access_analytics')(id_column)) }}
{%- endmacro %}

{% macro duckdb__raw_source_row_number(id_column) -%}
    cast(file_row_number as bigint)
{%- endmacro %}

{% macro trino__raw_source_row_number(id_column) -%}
    row_number() over (partition by "$path" order by {{ id_column }}, received_at)
{%- endmacro %}
