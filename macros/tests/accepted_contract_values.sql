{#-
    Fails for every value of the column that the raw contract does not list
    for it (the accepted_values meta of the column in the raw source), plus
    extra_values such as 'unknown' or the cubes' 'All'. The column of the
    contract defaults to the tested column's name. Nulls are not checked.
-#}
{% test accepted_contract_values(model, column_name, contract_table, contract_column=none, extra_values=[]) %}
    {%- set values = access_analytics.contract_values(contract_table, contract_column or column_name) + extra_values -%}
    {%- if execute and values | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "accepted_contract_values on " ~ model ~ "." ~ column_name ~ ": the raw contract lists no values for "
            ~ contract_table ~ "." ~ (contract_column or column_name)) }}
    {%- endif -%}
    select {{ column_name }} as unexpected_value
    from {{ model }}
    where {{ access_analytics.is_not_listed(column_name, values) }}
{% endtest %}
