{#-
    Fails for every combination of the key columns under which the column takes
    more than one value (nulls are not values): the key determines the column.
-#}
{% test single_value_per_key(model, column_name, key_columns) %}
    {%- if key_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("single_value_per_key on " ~ model ~ " needs key columns") }}
    {%- endif -%}
    select
        {{ key_columns | join(', ') }},
        count(distinct {{ column_name }}) as distinct_values
    from {{ model }}
    group by {{ key_columns | join(', ') }}
    having count(distinct {{ column_name }}) > 1
{% endtest %}
