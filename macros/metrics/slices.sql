{#-
    Label of a dimension in a cube (GROUP BY ... CUBE): 'All' on the rows
    that roll the dimension up. The column must already map nulls to
    'unknown', so a missing value in the data never reads as 'All'.
-#}
{% macro slice_label(column_name) -%}
    case when grouping({{ column_name }}) = 1 then 'All' else {{ column_name }} end
{%- endmacro %}

{#- A nullable dimension value as a slice member: null becomes 'unknown'. -#}
{% macro slice_member(expr) -%}
    coalesce(cast({{ expr }} as varchar), 'unknown')
{%- endmacro %}

{#- The dimensions every attempt and episode is sliced by. -#}
{% macro session_slice_dimensions() -%}
    {{ return(['model', 'region', 'access_hw', 'key_type', 'radio', 'firmware_version']) }}
{%- endmacro %}

{#-
    `slice_member(d) as d,` for each dimension: a select-list prefix, each line
    ending in a comma. With a relation, the columns are read from it (for a
    select that joins another relation).
-#}
{% macro slice_members(dimensions, relation=none) -%}
    {%- for dimension in dimensions %}
        {{ access_analytics.slice_member(relation ~ '.' ~ dimension if relation else dimension) }} as {{ dimension }},
    {%- endfor %}
{%- endmacro %}

{#- `slice_label(d) as d,` for each dimension of a cube: a select-list prefix. -#}
{% macro slice_labels(dimensions) -%}
    {%- for dimension in dimensions %}
        {{ access_analytics.slice_label(dimension) }} as {{ dimension }},
    {%- endfor %}
{%- endmacro %}

{#-
    The rows of a daily cube that roll every dimension up ('All'): the whole
    fleet, one row a day. A derived table, for a fleet mart's from clause, so
    the metrics are computed once, in the cube.
-#}
{% macro fleet_rows(cube_relation, dimensions) -%}
    (
        select *
        from {{ cube_relation }}
        where
            {%- for dimension in dimensions %}
            {{ 'and ' if not loop.first }}{{ dimension }} = 'All'
            {%- endfor %}
    )
{%- endmacro %}

{#- `relation.d,` for each dimension: a select-list prefix that carries a cube's dimensions on. -#}
{% macro dimension_columns(dimensions, relation) -%}
    {%- for dimension in dimensions %}
        {{ relation }}.{{ dimension }},
    {%- endfor %}
{%- endmacro %}

{#-
    The rows of a daily cube (`cube_cte`, by metric_date) with is_complete_day:
    whether that day of the raw table they count is complete
    (docs/metrics.md#complete-days); false for a day int_complete_days does not
    list. A CTE body: the model imports int_complete_days as `complete_days`.
-#}
{% macro with_complete_day(cube_cte, table_name) -%}
    select
        {{ cube_cte }}.*,
        coalesce(complete_days.is_complete_day, false) as is_complete_day
    from {{ cube_cte }}
    left join complete_days
        on
            complete_days.table_name = '{{ table_name }}'
            and {{ cube_cte }}.metric_date = complete_days.metric_date
{%- endmacro %}
