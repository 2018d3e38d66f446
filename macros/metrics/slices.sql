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
