{#-
    The build record: every dbt invocation that changes the warehouse (build,
    run, seed, snapshot) leaves rows in schema build_meta of the database it
    wrote, so the record always belongs to the file (or catalog) it describes.

    - build_meta.dbt_invocations: one row per invocation, written as `running`
      before the first node and completed by the on-run-end hook. A run that
      was killed stays `running`, and publishing refuses it.
    - build_meta.dbt_node_results: the status of every node the invocation ran,
      tests included.
    - build_meta.dbt_raw_tables: per raw table, the newest ingest day and the
      rows read and kept, as counted by this build.

    Each statement runs outside a transaction (auto_begin=false): hooks have
    no transaction of their own, and one opened here would be rolled back.

    Publishing (access_analytics.warehouse.publish) reads the newest invocation
    and refuses anything but a complete, unselected `dbt build` whose every
    node passed (warnings allowed).
-#}

{#- The commands whose results a published file may depend on. -#}
{% macro is_recorded_invocation() -%}
    {{ return(execute and flags.WHICH in ['build', 'run', 'seed', 'snapshot']) }}
{%- endmacro %}

{% macro build_record_relation(identifier) -%}
    {{ return(api.Relation.create(database=target.database, schema='build_meta', identifier=identifier)) }}
{%- endmacro %}

{#- A SQL string literal (single quotes doubled), or null. -#}
{% macro sql_text(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{#- The --select / --exclude / --selector arguments of this invocation ('' when none). -#}
{% macro invocation_selection() -%}
    {%- set parts = [] -%}
    {%- for argument in ['select', 'exclude', 'selector'] -%}
        {%- set value = invocation_args_dict.get(argument) -%}
        {%- if value -%}
            {%- do parts.append('--' ~ argument ~ ' ' ~ (value if value is string else value | join(' '))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts | join(' ')) }}
{%- endmacro %}

{% macro record_build_start() -%}
    {%- if not access_analytics.is_recorded_invocation() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set invocations = access_analytics.build_record_relation('dbt_invocations') -%}
    {%- do adapter.create_schema(invocations) -%}
    {%- call statement('create_build_record', auto_begin=false) -%}
        create table if not exists {{ invocations }} (
            invocation_id varchar,
            command varchar,
            selection varchar,
            full_refresh boolean,
            started_at varchar,
            finished_at varchar,
            status varchar,
            nodes_run integer,
            nodes_failed integer,
            dbt_version varchar,
            project_commit varchar
        )
    {%- endcall -%}
    {%- call statement('create_build_node_results', auto_begin=false) -%}
        create table if not exists {{ access_analytics.build_record_relation('dbt_node_results') }} (
            invocation_id varchar,
            unique_id varchar,
            resource_type varchar,
            status varchar,
            failures integer,
            message varchar
        )
    {%- endcall -%}
    {%- call statement('create_build_raw_tables', auto_begin=false) -%}
        create table if not exists {{ access_analytics.build_record_relation('dbt_raw_tables') }} (
            invocation_id varchar,
            table_name varchar,
            newest_ingest_date date,
            rows_read bigint,
            rows_kept bigint
        )
    {%- endcall -%}
    {%- call statement('record_invocation_start', auto_begin=false) -%}
        insert into {{ invocations }}
        values (
            {{ access_analytics.sql_text(invocation_id) }},
            {{ access_analytics.sql_text(flags.WHICH) }},
            {{ access_analytics.sql_text(access_analytics.invocation_selection()) }},
            {{ 'true' if flags.FULL_REFRESH else 'false' }},
            {{ access_analytics.sql_text(run_started_at.isoformat()) }},
            null,
            'running',
            null,
            null,
            {{ access_analytics.sql_text(dbt_version) }},
            {{ access_analytics.sql_text(env_var('ACCESS_PROJECT_COMMIT', 'unknown')) }}
        )
    {%- endcall -%}
    {{ return('') }}
{%- endmacro %}

{% macro record_build_end(results) -%}
    {%- if not access_analytics.is_recorded_invocation() -%}
        {{ return('') }}
    {%- endif -%}
    {#- Warnings pass (a missing ingest day warns by default), exposures are no-ops; error, fail and skipped do not. -#}
    {%- set failed = results | rejectattr('status', 'in', ['success', 'pass', 'warn', 'no-op']) | list -%}
    {%- if results -%}
        {%- call statement('record_node_results', auto_begin=false) -%}
            insert into {{ access_analytics.build_record_relation('dbt_node_results') }}
            values
            {%- for result in results %}
                (
                    {{ access_analytics.sql_text(invocation_id) }},
                    {{ access_analytics.sql_text(result.node.unique_id) }},
                    {{ access_analytics.sql_text(result.node.resource_type) }},
                    {{ access_analytics.sql_text(result.status) }},
                    {{ result.failures if result.failures is number else 'null' }},
                    {{ access_analytics.sql_text((result.message or '')[:500]) }}
                ){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endcall -%}
    {%- endif -%}
    {%- if not failed -%}
        {%- do access_analytics.record_raw_tables(results) -%}
    {%- endif -%}
    {%- call statement('record_invocation_end', auto_begin=false) -%}
        update {{ access_analytics.build_record_relation('dbt_invocations') }}
        set
            finished_at = {{ access_analytics.sql_text(modules.datetime.datetime.now(modules.pytz.utc).isoformat()) }},
            status = '{{ 'error' if failed else 'success' }}',
            nodes_run = {{ results | length }},
            nodes_failed = {{ failed | length }}
        where invocation_id = {{ access_analytics.sql_text(invocation_id) }}
    {%- endcall -%}
    {{ return('') }}
{%- endmacro %}

{#-
    Newest ingest day and rows read and kept per raw table, from the relations
    this invocation built: the telemetry tables from mart_data_quality_daily,
    the registries from their staging views (rows of the newest snapshot).
    Recorded only when those nodes ran in this invocation.
-#}
{% macro record_raw_tables(results) -%}
    {%- set built = results | map(attribute='node') | selectattr('resource_type', 'equalto', 'model') | map(attribute='name') | list -%}
    {%- set selects = [] -%}
    {%- if 'mart_data_quality_daily' in built -%}
        {%- set quality = access_analytics.built_model_relation('mart_data_quality_daily') -%}
        {%- do selects.append(
            "select table_name, max(case when rows_read > 0 then ingest_date end) as newest_ingest_date,"
            ~ " sum(rows_read) as rows_read, sum(rows_kept) as rows_kept"
            ~ " from " ~ quality ~ " group by table_name") -%}
    {%- endif -%}
    {%- for registry in ['vehicles', 'keys', 'firmware_releases'] if 'stg_raw__' ~ registry in built -%}
        {%- set relation = access_analytics.built_model_relation('stg_raw__' ~ registry) -%}
        {%- do selects.append(
            "select '" ~ registry ~ "' as table_name, max(snapshot_date) as newest_ingest_date,"
            ~ " count(*) as rows_read, count(*) as rows_kept from " ~ relation) -%}
    {%- endfor -%}
    {%- if selects -%}
        {%- call statement('record_raw_tables', auto_begin=false) -%}
            insert into {{ access_analytics.build_record_relation('dbt_raw_tables') }}
            select
                {{ access_analytics.sql_text(invocation_id) }},
                table_name,
                newest_ingest_date,
                rows_read,
                rows_kept
            from (
                {{ selects | join('\n                union all\n                ') }}
            ) as raw_tables
        {%- endcall -%}
    {%- endif -%}
{%- endmacro %}

{#- A model of this project as a relation, found through the graph (hooks have no ref()). -#}
{% macro built_model_relation(model_name) -%}
    {%- set node = graph.nodes['model.access_analytics.' ~ model_name] -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}
