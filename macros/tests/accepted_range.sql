{#-
    Fails for every row whose value lies outside [min_value, max_value]
    (bounds inclusive unless inclusive=false). Nulls are not checked: pair with
    not_null where a value is required.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range on " ~ model ~ "." ~ column_name ~ " needs min_value or max_value") }}
    {%- endif -%}
    {%- set lower_op = '>=' if inclusive else '>' -%}
    {%- set upper_op = '<=' if inclusive else '<' -%}
    select {{ column_name }} as out_of_range_value
    from {{ model }}
    where {{ column_name }} is not null
        and not (
            1 = 1
            {%- if min_value is not none %} and {{ column_name }} {{ lower_op }} {{ min_value }}{% endif %}
            {%- if max_value is not none %} and {{ column_name }} {{ upper_op }} {{ max_value }}{% endif %}
        )
{% endtest %}
