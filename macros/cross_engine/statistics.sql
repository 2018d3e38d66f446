{#-
    Continuous percentile (linear interpolation between the two nearest ranks),
    as an aggregate. DuckDB computes it exactly. Trino only has approximate
    percentiles; METRICS.md allows that as long as the error stays within 1% of
    the value, which the trino__ variant is configured for.
-#}
{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'access_analytics')(expr, fraction)) }}
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro trino__percentile_cont(expr, fraction) -%}
    approx_percentile(cast({{ expr }} as double), {{ fraction }})
{%- endmacro %}


{#- Median with interpolation: the mean of the two middle values for an even count. -#}
{% macro median(expr) -%}
    {{ return(access_analytics.percentile_cont(expr, 0.5)) }}
{%- endmacro %}
