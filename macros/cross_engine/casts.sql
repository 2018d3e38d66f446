{#- Cast that yields null instead of failing when the value does not fit the type. -#}
{% macro safe_cast(expr, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'access_analytics')(expr, data_type)) }}
{%- endmacro %}

{% macro duckdb__safe_cast(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}

{% macro trino__safe_cast(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}
