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

{#- `slice_member(d) as d,` for each dimension: a select-list prefix, each line ending in a comma. -#}
{% macro slice_members(dimensions) -%}
    {%- for dimension in dimensions %}
        {{ access_analytics.slice_member(dimension) }} as {{ dimension }},
    {%- endfor %}
{%- endmacro %}

{#- `slice_label(d) as d,` for each dimension of a cube: a select-list prefix. -#}
{% macro slice_labels(dimensions) -%}
    {%- for dimension in dimensions %}
        {{ access_analytics.slice_label(dimension) }} as {{ dimension }},
    {%- endfor %}
{%- endmacro %}

{#- True on the row of a cube that rolls every dimension up: the whole fleet. -#}
{% macro is_fleet_row(dimensions) -%}
    {%- for dimension in dimensions -%}
        {{ dimension }} = 'All'{{ '\n        and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- `relation.d,` for each dimension: a select-list prefix that carries a cube's dimensions on. -#}
{% macro dimension_columns(dimensions, relation) -%}
    {%- for dimension in dimensions %}
        {{ relation }}.{{ dimension }},
    {%- endfor %}
{%- endmacro %}
