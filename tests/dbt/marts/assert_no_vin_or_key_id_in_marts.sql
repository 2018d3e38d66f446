{#-
    Privacy (METRICS.md): no text column of any mart holds a VIN or a key id
    in clear, whether it is one the registries know or merely has the shape
    of a VIN. The columns come from the marts' contracts; every mart is
    listed below so the test runs after all of them. Returns the offending
    values with their relation and column.
-#}
-- depends_on: {{ ref('dim_firmware_releases') }}
-- depends_on: {{ ref('dim_fob_health') }}
-- depends_on: {{ ref('dim_vehicles') }}
-- depends_on: {{ ref('fct_card_taps') }}
-- depends_on: {{ ref('fct_fob_battery_daily') }}
-- depends_on: {{ ref('fct_unlock_attempts') }}
-- depends_on: {{ ref('fct_walkaway_episodes') }}
-- depends_on: {{ ref('mart_card_taps_daily_by_slice') }}
-- depends_on: {{ ref('mart_data_quality_daily') }}
-- depends_on: {{ ref('mart_firmware_release_health') }}
-- depends_on: {{ ref('mart_fob_battery_daily') }}
-- depends_on: {{ ref('mart_fob_battery_daily_by_slice') }}
-- depends_on: {{ ref('mart_fob_health_by_segment') }}
-- depends_on: {{ ref('mart_quarantine_reasons') }}
-- depends_on: {{ ref('mart_unlock_daily') }}
-- depends_on: {{ ref('mart_unlock_daily_by_slice') }}
-- depends_on: {{ ref('mart_walkaway_daily') }}
-- depends_on: {{ ref('mart_walkaway_daily_by_slice') }}

{%- set checks = [] %}
{%- for node in graph.nodes.values()
    if execute and node.resource_type == 'model' and node.path.startswith('marts') %}
{%- for column in node.columns.values() if (column.data_type or '') | lower == 'varchar' %}
{%- do checks.append((node.relation_name, node.name, column.name)) %}
{%- endfor %}
{%- endfor %}

with

identifiers as (

    select vin as identifier from {{ ref('stg_raw__vehicles') }}
    union
    select key_id as identifier from {{ ref('stg_raw__keys') }}

),

mart_values as (

    {%- for relation_name, model_name, column_name in checks %}
    select distinct
        '{{ model_name }}' as model_name,
        '{{ column_name }}' as column_name,
        cast({{ adapter.quote(column_name) }} as varchar) as column_value
    from {{ relation_name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not checks %}
    select
        cast(null as varchar) as model_name,
        cast(null as varchar) as column_name,
        cast(null as varchar) as column_value
    {%- endif %}

),

final as (

    select mart_values.*
    from mart_values
    where
        mart_values.column_value in (select identifiers.identifier from identifiers)
        or {{ access_analytics.regexp_full_match('mart_values.column_value', '[A-HJ-NPR-Z0-9]{17}') }}

)

select * from final
